"""Evaluation datasets as landmark streams with their labels: UI-PRMD, KERAAL and RepCount.

Each loader maps the dataset's skeleton to MediaPipe's 33 landmark indices (joints the dataset lacks stay
NaN), so the same engine code runs on them as on our own recordings.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from formcheck.io.recording import PoseStream, load_keraal_blazepose, load_repcount
from formcheck.pose.landmarks import MIRROR, NUM_LANDMARKS, L


class DatasetError(ValueError):
    """A dataset folder or file is missing or not in the expected format."""


# ---------------------------------------------------------------------------------------------- UI-PRMD

UI_PRMD_MOVEMENTS = {
    1: "deep squat",
    2: "hurdle step",
    3: "inline lunge",
    4: "side lunge",
    5: "sit to stand",
    6: "standing active straight leg raise",
    7: "standing shoulder abduction",
    8: "standing shoulder extension",
    9: "standing shoulder internal-external rotation",
    10: "standing shoulder scaption",
}

# UI-PRMD Kinect joints (0-based): parent of each joint, and the joint whose rotation orients its offset.
# The chain follows the dataset authors' reconstruction code: spine joints accumulate the rotations of
# all joints below them; collars start from the chest's rotation and legs from the waist's.
_PARENT = (-1, 0, 1, 2, 3, 4, 2, 6, 7, 8, 2, 10, 11, 12, 0, 14, 15, 16, 0, 18, 19, 20)
_CHAIN_START = {6: 2, 10: 2, 14: 0, 18: 0}  # these joints' frames restart from one joint's own rotation

# UI-PRMD joint -> MediaPipe landmark
_UI_PRMD_TO_MP = {
    4: L.NOSE,
    7: L.LEFT_SHOULDER, 8: L.LEFT_ELBOW, 9: L.LEFT_WRIST,
    11: L.RIGHT_SHOULDER, 12: L.RIGHT_ELBOW, 13: L.RIGHT_WRIST,
    14: L.LEFT_HIP, 15: L.LEFT_KNEE, 16: L.LEFT_ANKLE, 17: L.LEFT_FOOT_INDEX,
    18: L.RIGHT_HIP, 19: L.RIGHT_KNEE, 20: L.RIGHT_ANKLE, 21: L.RIGHT_FOOT_INDEX,
}
UI_PRMD_FPS = 30.0


def _read_gz_csv(path: Path, columns: int = 66) -> np.ndarray:
    try:
        with gzip.open(path, "rt") as f:
            a = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path.name} is not a readable UI-PRMD file: {exc}") from exc
    if a.shape[1] != columns:
        raise DatasetError(f"{path.name} has {a.shape[1]} columns, expected {columns} (22 joints x 3)")
    return a.reshape(len(a), 22, 3)


def ui_prmd_absolute(positions: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Absolute (T, 22, 3) joint positions (cm, +x right, +y up, +z toward the camera) from UI-PRMD's relative
    positions (joint 0 absolute, others = offset from the parent in the parent's frame) and Euler angles
    (degrees, x-y-z, rotation = Rz @ Ry @ Rx), chaining the rotations down the hierarchy."""
    t = len(positions)
    rot = Rotation.from_euler("ZYX", np.deg2rad(angles[:, :, ::-1].reshape(-1, 3))).as_matrix().reshape(t, 22, 3, 3)
    frames = np.zeros((t, 22, 3, 3))
    out = np.zeros_like(positions)
    out[:, 0] = positions[:, 0]
    for j in range(1, 22):
        parent = _PARENT[j]
        if j in _CHAIN_START:
            frame = rot[:, _CHAIN_START[j]]
        elif parent == 0:
            frame = rot[:, 0]
        else:
            frame = frames[:, parent] @ rot[:, parent]
        frames[:, j] = frame
        out[:, j] = np.einsum("tij,tj->ti", frame, positions[:, j]) + out[:, parent]
    return out


def ui_prmd_stream(positions_file: str | Path, angles_file: str | Path | None = None) -> PoseStream:
    """One UI-PRMD repetition as a landmark stream. ``world`` holds metres (MediaPipe axes: y down, z away from
    the camera, origin between the hips); ``landmarks`` a front view of it as normalised image coordinates."""
    positions_file = Path(positions_file)
    if angles_file is None:
        angles_file = Path(str(positions_file).replace("positions", "angles"))
    xyz = ui_prmd_absolute(_read_gz_csv(positions_file), _read_gz_csv(Path(angles_file)))
    n = len(xyz)
    world = np.full((n, NUM_LANDMARKS, 3), np.nan, np.float32)
    for src, dst in _UI_PRMD_TO_MP.items():
        world[:, dst] = xyz[:, src] * np.array([0.01, -0.01, -0.01])
    for side in ((L.LEFT_ANKLE, L.LEFT_HEEL), (L.RIGHT_ANKLE, L.RIGHT_HEEL)):
        world[:, side[1]] = world[:, side[0]]
    hips = world[:, [L.LEFT_HIP, L.RIGHT_HIP]].mean(axis=1, keepdims=True)
    centre = np.nanmean(hips, axis=0)
    world -= hips
    lms = np.full((n, NUM_LANDMARKS, 5), np.nan, np.float32)
    # a camera 2.5 m wide at the body's distance, body centred
    lms[:, :, :2] = 0.5 + ((world[:, :, :2] + hips[:, :, :2]) - centre[:, :2]) / 2.5
    lms[:, :, 2] = world[:, :, 2] / 2.5
    lms[:, :, 3:] = np.where(np.isfinite(world[:, :, :1]), 1.0, np.nan)
    meta = {"dataset": "ui_prmd", "file": positions_file.name}
    return PoseStream(lms, world, np.arange(n) / UI_PRMD_FPS, np.ones(n, np.int8), (1000, 1000), meta)


@dataclass(frozen=True)
class UiPrmdItem:
    movement: int
    subject: int
    episode: int
    correct: bool
    positions: Path
    angles: Path

    def stream(self) -> PoseStream:
        return ui_prmd_stream(self.positions, self.angles)


_UI_PRMD_NAME = re.compile(r"m(\d+)_s(\d+)_e(\d+)_positions(_inc)?\.txt(\.gz)?$")


def ui_prmd_items(root: str | Path, movements: tuple[int, ...] | None = None) -> list[UiPrmdItem]:
    """Every repetition under ``root`` (``correct/`` and ``incorrect/``, each with ``positions/`` and ``angles/``)."""
    root = Path(root)
    items = []
    for label in ("correct", "incorrect"):
        folder = root / label / "positions"
        if not folder.is_dir():
            raise DatasetError(f"{folder} not found: expected UI-PRMD's correct/ and incorrect/ folders")
        for path in sorted(folder.iterdir()):
            m = _UI_PRMD_NAME.match(path.name)
            if not m:
                continue
            movement = int(m.group(1))
            if movements and movement not in movements:
                continue
            angles = root / label / "angles" / path.name.replace("positions", "angles")
            if angles.exists():
                items.append(UiPrmdItem(movement, int(m.group(2)), int(m.group(3)), label == "correct", path, angles))
    return items


# ---------------------------------------------------------------------------------------------- KERAAL

KERAAL_EXERCISES = {
    "cacheTete": "keraal_hide_face",
    "rotationTronc": "keraal_torso_rotation",
    "etirementLateraux": "keraal_flank_stretch",
}
# Error1Bodypart{n}: the arm(s) at fault, in the order of KERAAL's annotation scheme (LeftArm, RightArm,
# BothArms). Our model on KERAAL's videos agrees (Bodypart1 = the person's left arm low).
KERAAL_SIDES = {1: "left", 2: "right", 3: "both"}


@dataclass(frozen=True)
class KeraalLabel:
    correct: bool
    side: str  # "none" when correct, else "right" | "left" | "both" (the arm(s) at fault)
    error: int = 0  # KERAAL error type (1 = arm(s) not raised enough)


def keraal_label(name: str) -> KeraalLabel:
    """Label from a KERAAL file name: ``Correct3`` -> correct; ``Error1Bodypart2_4`` -> error 1, left arm."""
    stem = Path(name).stem.replace("VideoColor_", "").replace("SkeletonBlazepose_", "")
    if stem.startswith("Correct"):
        return KeraalLabel(True, "none")
    m = re.match(r"Error(\d)Bodypart(\d)", stem)
    if not m or int(m.group(2)) not in KERAAL_SIDES:
        raise DatasetError(f"cannot read a KERAAL label from the file name {name!r}")
    return KeraalLabel(False, KERAAL_SIDES[int(m.group(2))], int(m.group(1)))


@dataclass(frozen=True)
class KeraalItem:
    exercise: str  # catalog id
    label: KeraalLabel
    path: Path

    def stream(self) -> PoseStream:
        if self.path.suffix.lower() in (".json", ".txt"):
            return load_keraal_skeleton(self.path)
        raise DatasetError(f"{self.path.name} is a video: run it through the pose model")


def load_keraal_skeleton(path: str | Path) -> PoseStream:
    """A KERAAL BlazePose file, mirrored back to the video's orientation.

    KERAAL's BlazePose landmarks were extracted from horizontally flipped frames: their x is 1 - x of the
    same landmark found by MediaPipe on the dataset's video, and left and right are swapped. Mirroring
    restores the person's real left and right, so labels and our own video analysis agree."""
    stream = load_keraal_blazepose(path)
    lms = stream.landmarks[:, list(MIRROR)].copy()
    lms[:, :, 0] = 1.0 - lms[:, :, 0]
    stream.landmarks = lms
    stream.meta["mirrored"] = True
    return stream


def keraal_items(root: str | Path, suffixes: tuple[str, ...] = (".json", ".txt")) -> list[KeraalItem]:
    """Files under ``root/<exercise folder>/`` (BlazePose JSON, or videos with ``suffixes=(".avi",)``)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"KERAAL folder {root} not found")
    items = []
    for folder, exercise in KERAAL_EXERCISES.items():
        for path in sorted((root / folder).glob("*")):
            if path.suffix.lower() in suffixes:
                items.append(KeraalItem(exercise, keraal_label(path.name), path))
    return items


# ---------------------------------------------------------------------------------------------- RepCount

REPCOUNT_CLASSES = {  # RepCount type (with the student clips' spellings) -> class
    "squat": "squat", "squant": "squat",
    "situp": "situp",
    "push_up": "push_up", "pushups": "push_up",
    "front_raise": "front_raise", "frontraise": "front_raise",
    "jump_jack": "jump_jack", "jumpjacks": "jump_jack",
    "pull_up": "pull_up", "pullups": "pull_up",
    "bench_pressing": "bench_pressing", "benchpressing": "bench_pressing",
    "pommelhorse": "pommelhorse", "others": "others",
}
REPCOUNT_SCORED = ("squat", "situp", "push_up", "front_raise", "jump_jack")


@dataclass(frozen=True)
class RepCountItem:
    name: str  # video name without extension
    kind: str  # RepCount type as written in the annotation
    count: int
    bounds: tuple[tuple[int, int], ...] = field(default=())  # (start_frame, end_frame) of each repetition
    path: Path | None = None  # the pose .npy, when present

    @property
    def cls(self) -> str:
        return REPCOUNT_CLASSES.get(self.kind, self.kind)

    def stream(self) -> PoseStream:
        if self.path is None:
            raise DatasetError(f"no pose file for {self.name}")
        return load_repcount(self.path)


def repcount_items(root: str | Path, split: str = "test", classes: tuple[str, ...] | None = REPCOUNT_SCORED,
                   present_only: bool = True) -> list[RepCountItem]:
    """Rows of ``root/annotation/<split>.csv`` (count and repetition bounds), with their pose file when present."""
    root = Path(root)
    ann = root / "annotation" / f"{split}.csv"
    if not ann.exists():
        raise DatasetError(f"{ann} not found: expected RepCount's annotation/{split}.csv")
    items = []
    with open(ann, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        col = {name: i for i, name in enumerate(header)}
        for row in rows:
            kind, video, count = row[col["type"]], row[col["name"]], row[col["count"]]
            name = Path(video).stem
            cls = REPCOUNT_CLASSES.get(kind, kind)
            if classes and cls not in classes:
                continue
            marks = [int(float(v)) for v in row[col["count"] + 1 :] if v.strip()]
            bounds = tuple(zip(marks[0::2], marks[1::2], strict=False))
            path = next((p for p in (root / f"{name}.npy", root / "test_poses_5_ave" / f"{name}.npy") if p.exists()),
                        None)
            if present_only and path is None:
                continue
            items.append(RepCountItem(name, kind, int(float(count)), bounds, path))
    return items


def iter_streams(items) -> Iterator[tuple[object, PoseStream]]:
    """(item, stream) pairs, loading each stream lazily."""
    for item in items:
        yield item, item.stream()
