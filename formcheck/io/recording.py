"""Save and replay landmark streams (``.npz``), and loaders for the evaluation datasets' skeletons."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from formcheck.pipeline.sinks import BaseSink
from formcheck.pose.landmarks import NAMES, NUM_LANDMARKS
from formcheck.pose.types import Pose

FORMAT_VERSION = 1


@dataclass
class PoseStream:
    """A recorded sequence of poses as arrays: what analysis needs, without video or model."""

    landmarks: np.ndarray  # (T, 33, 5), NaN where nobody was seen
    world: np.ndarray  # (T, 33, 3)
    timestamps: np.ndarray  # (T,) seconds
    people: np.ndarray  # (T,) int
    image_size: tuple[int, int]
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.timestamps)

    def __iter__(self) -> Iterator[Pose]:
        for i in range(len(self)):
            yield Pose(
                self.landmarks[i], self.world[i], float(self.timestamps[i]), self.image_size, int(self.people[i])
            )

    @property
    def fps(self) -> float:
        if len(self) < 2:
            return 30.0
        return float((len(self) - 1) / (self.timestamps[-1] - self.timestamps[0]))

    @classmethod
    def from_poses(cls, poses: Iterable[Pose], meta: dict | None = None) -> PoseStream:
        poses = list(poses)
        if not poses:
            raise ValueError("no poses to record")
        return cls(
            landmarks=np.stack([p.landmarks for p in poses]).astype(np.float32),
            world=np.stack([p.world for p in poses]).astype(np.float32),
            timestamps=np.array([p.timestamp for p in poses], np.float64),
            people=np.array([p.people for p in poses], np.int8),
            image_size=poses[0].image_size,
            meta=dict(meta or {}),
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format": "formcheck-landmarks", "version": FORMAT_VERSION, **self.meta}
        with open(path, "wb") as f:
            np.savez_compressed(
                f,
                landmarks=self.landmarks,
                world=self.world,
                timestamps=self.timestamps,
                people=self.people,
                image_size=np.array(self.image_size, np.int32),
                meta=np.array(json.dumps(meta)),
            )
        return path

    @classmethod
    def concat(cls, streams: list[PoseStream]) -> PoseStream:
        """One stream of several consecutive ones (the first one's image size and meta)."""
        if not streams:
            raise ValueError("no poses to record")
        first = streams[0]
        return cls(
            landmarks=np.concatenate([s.landmarks for s in streams]),
            world=np.concatenate([s.world for s in streams]),
            timestamps=np.concatenate([s.timestamps for s in streams]),
            people=np.concatenate([s.people for s in streams]),
            image_size=first.image_size,
            meta=dict(first.meta),
        )

    @classmethod
    def load(cls, path: str | Path) -> PoseStream:
        """Read a ``.npz`` written by :meth:`save`. For a recording a :class:`ChunkedPoseWriter` has not
        finished (still running, or killed), reads its chunks: what had been recorded up to then."""
        parts = chunk_folder(path)
        if not Path(path).exists() and parts.is_dir():
            return cls._load_chunks(parts)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("format") != "formcheck-landmarks":
                    raise ValueError("not a formcheck landmark recording")
                return cls(
                    landmarks=z["landmarks"],
                    world=z["world"],
                    timestamps=z["timestamps"],
                    people=z["people"],
                    image_size=tuple(int(v) for v in z["image_size"]),
                    meta=meta,
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{Path(path).name} is not a readable formcheck landmark recording: {exc}") from exc


    @classmethod
    def _load_chunks(cls, folder: Path) -> PoseStream:
        chunks = sorted(folder.glob("*.npz"))  # half-written chunks end in .tmp and are left out
        if not chunks:
            raise ValueError(f"{folder.name} holds no recorded landmarks yet")
        return cls.concat([cls.load(chunk) for chunk in chunks])


def chunk_folder(path: str | Path) -> Path:
    """Where a :class:`ChunkedPoseWriter` keeps the chunks of ``path`` until it is finished."""
    path = Path(path)
    return path.with_name(path.name + ".parts")


class ChunkedPoseWriter:
    """Records poses as they come, durably: every ``every_s`` seconds of stream time the new poses are written
    off the caller's thread (:class:`~formcheck.core.background.BackgroundWorker`) as one small ``.npz`` chunk in
    ``<path>.parts/`` (written whole, flushed to disk, then renamed), so a crash or a kill keeps everything up
    to the last chunk; :meth:`PoseStream.load` of ``path`` reads them meanwhile. :meth:`close` writes the rest
    and joins the chunks into ``path``. Per pose, :meth:`add` only appends to a list."""

    def __init__(self, path: str | Path, meta: dict | None = None, every_s: float = 2.0):
        from formcheck.core.background import BackgroundWorker

        self.path = Path(path)
        self.folder = chunk_folder(self.path)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.meta, self.every_s = dict(meta or {}), every_s
        self.count = 0
        self._batch: list[Pose] = []
        self._chunks = 0
        self._worker = BackgroundWorker(self._write, name="landmarks")

    def add(self, pose: Pose) -> None:
        self._batch.append(pose)
        self.count += 1
        if pose.timestamp - self._batch[0].timestamp >= self.every_s:
            self._submit()

    def _submit(self) -> None:
        if self._batch:
            self._worker.submit((self._chunks, self._batch))
            self._chunks += 1
            self._batch = []

    def _write(self, item: tuple[int, list[Pose]]) -> None:
        number, poses = item
        _write_whole(PoseStream.from_poses(poses, self.meta), self.folder / f"{number:06d}.npz")

    def flush(self) -> None:
        """Write the poses added so far and wait until they are on disk."""
        self._submit()
        self._worker.flush()

    def close(self) -> Path | None:
        """Write what is left and join the chunks into ``path`` (returned; None when nothing was recorded)."""
        self._submit()
        self._worker.close()
        if self.count:
            _write_whole(PoseStream._load_chunks(self.folder), self.path)
        shutil.rmtree(self.folder, ignore_errors=True)
        return self.path if self.count else None


def _write_whole(stream: PoseStream, path: Path) -> None:
    """Save so that ``path`` is either absent or complete, even after a kill or a power cut."""
    tmp = path.with_name(path.name + ".tmp")
    stream.save(tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


class PoseRecorder(BaseSink):
    """A pipeline sink that collects poses and writes them with :meth:`PoseStream.save`."""

    needs_frames = False

    def __init__(self, meta: dict | None = None):
        self.poses: list[Pose] = []
        self.meta = meta or {}

    def __call__(self, result) -> None:
        self.poses.append(result.pose)

    def stream(self) -> PoseStream:
        return PoseStream.from_poses(self.poses, self.meta)


def _stream_from_xyz(
    xyz: np.ndarray, fps: float, image_size: tuple[int, int], meta: dict, ok: np.ndarray | None = None
) -> PoseStream:
    t = len(xyz)
    lms = np.full((t, NUM_LANDMARKS, 5), np.nan, np.float32)
    lms[:, :, :3] = xyz
    lms[:, :, 3:] = 1.0  # datasets store no visibility: treat recorded joints as seen
    people = np.ones(t, np.int8)
    if ok is not None:
        lms[~ok] = np.nan
        people[~ok] = 0
    world = np.full((t, NUM_LANDMARKS, 3), np.nan, np.float32)
    return PoseStream(lms, world, np.arange(t) / fps, people, image_size, meta)


def load_keraal_blazepose(path: str | Path, fps: float = 20.0) -> PoseStream:
    """KERAAL BlazePose JSON (one repetition, 960x540 video at 20 fps; no visibility, no world landmarks)."""
    data = json.loads(Path(path).read_text())["positions"]
    names = [n.capitalize() for n in NAMES]
    frames = sorted(data, key=float)
    xyz = np.array([[data[k][n] for n in names] for k in frames], np.float32)
    return _stream_from_xyz(xyz, fps, (960, 540), {"dataset": "keraal", "file": Path(path).name})


def load_repcount(path: str | Path, fps: float = 30.0) -> PoseStream:
    """RepCount-A pose ``.npy`` (T, 104). x, y, z are min-max normalised per frame, so only the body's
    shape is kept; the image size is set square so angles stay as extracted. All-zero rows = nobody seen."""
    a = np.load(path)
    ok = np.abs(a).sum(1) > 0
    xyz = a[:, :99].reshape(-1, NUM_LANDMARKS, 3).astype(np.float32)
    return _stream_from_xyz(xyz, fps, (1000, 1000), {"dataset": "repcount", "file": Path(path).name}, ok)


def load_ui_prmd_angles(path: str | Path) -> np.ndarray:
    """UI-PRMD Kinect angles or positions file (gzip CSV) as a (T, 22, 3) array."""
    with gzip.open(path, "rt") as f:
        return np.loadtxt(f, delimiter=",", dtype=np.float32).reshape(-1, 22, 3)
