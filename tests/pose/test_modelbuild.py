import shutil
import zipfile

import pytest

from formcheck.pose import models as modelbuild
from formcheck.pose.models import ModelError, bundle_path, check_model, expected_sums


def test_missing_model_says_how_to_rebuild(tmp_path):
    shutil.copy(modelbuild.MODELS_DIR / "SHA256SUMS", tmp_path)
    with pytest.raises(ModelError, match="formcheck models build"):
        check_model("full", tmp_path)


def test_corrupt_model_is_detected(tmp_path):
    shutil.copy(modelbuild.MODELS_DIR / "SHA256SUMS", tmp_path)
    bundle_path("lite", tmp_path).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="corrupt"):
        check_model("lite", tmp_path)


def test_unreadable_model_is_a_message(tmp_path):
    bundle_path("lite", tmp_path).mkdir()  # exists but cannot be read as a file (root ignores chmod)
    with pytest.raises(ModelError, match="cannot read the pose model .*permissions"):
        check_model("lite", tmp_path)


def test_unknown_variant():
    with pytest.raises(ModelError, match="lite, full, heavy"):
        bundle_path("medium")


def test_installed_bundles_hold_both_models_with_metadata():
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md
    from mediapipe.tasks.metadata import schema_py_generated as fb

    path = check_model("lite")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
        for name, mean, std in (("pose_detector.tflite", 127.5, 127.5), ("pose_landmarks_detector.tflite", 0, 255)):
            model = fb.Model.GetRootAsModel(zf.read(name), 0)
            meta = [model.Metadata(i) for i in range(model.MetadataLength())]
            entry = next(m for m in meta if m.Name() == b"TFLITE_METADATA")
            buf = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
            mm = md.ModelMetadataT.InitFromObj(md.ModelMetadata.GetRootAsModelMetadata(buf, 0))
            norm = mm.subgraphMetadata[0].inputTensorMetadata[0].processUnits[0].options
            assert (norm.mean[0], norm.std[0]) == (mean, std)


@pytest.mark.slow
def test_build_is_reproducible(tmp_path):
    """Builds from the npm registry package and must give byte-identical bundles (sha256 in models/)."""
    if shutil.which("npm") is None:
        pytest.skip("npm not installed")
    for f in ("SHA256SUMS", "inner_sha256.json"):
        shutil.copy(modelbuild.MODELS_DIR / f, tmp_path)
    written = modelbuild.build_models(tmp_path, ("lite",))
    assert written == [bundle_path("lite", tmp_path)]
    assert check_model("lite", tmp_path)
    assert expected_sums(tmp_path)["pose_landmarker_lite.task"]
