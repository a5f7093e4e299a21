"""The command line refuses bad arguments with a clear message and exit code 2, before any work is done."""

import pytest
from typer.testing import CliRunner

from formcheck.cli import app


@pytest.fixture(autouse=True)
def keep_stderr(monkeypatch):
    monkeypatch.setenv("FORMCHECK_VERBOSE", "1")  # silence_native_logs would swap the runner's stderr


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"not read: the output check comes first")
    return path


@pytest.mark.parametrize(
    "option, value, expected",
    [
        ("--json", "{tmp}", "is a folder"),
        ("--json", "/proc/no/report.json", "cannot write"),
        ("--annotated", "{tmp}/annotated.txt", "must end in .mp4"),
        ("--annotated", "/proc/no/annotated.mp4", "cannot write"),
        ("--landmarks", "{tmp}/lm.csv", "must end in .npz"),
    ],
)
def test_unwritable_outputs_are_refused_up_front(tmp_path, video, option, value, expected):
    result = CliRunner().invoke(app, ["analyze", str(video), "-e", "squat", option, value.format(tmp=tmp_path)])
    assert result.exit_code == 2
    assert expected in result.output and option in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert list(tmp_path.iterdir()) == [video]  # nothing left behind


def test_a_writable_output_is_not_left_behind_when_the_input_is_bad(tmp_path, video):
    result = CliRunner().invoke(app, ["analyze", str(video), "-e", "squat", "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "is not a video that can be read" in result.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    "url, expected",
    [
        ("bogus://x", "'bogus://x' is not a database URL"),
        ("not a url", "is not a database URL"),
        ("sqlite:////nonexistent/folder/formcheck.db", "cannot open the database sqlite:////nonexistent"),
        ("postgresql://someone:secret@127.0.0.1:1/formcheck", "cannot open the database postgresql://someone:***@"),
    ],
)
@pytest.mark.parametrize("command", [["users", "add", "ther_qa", "--password-stdin"], ["serve"]])
def test_a_wrong_database_url_is_a_message(command, url, expected):
    result = CliRunner().invoke(app, [*command, "--db", url], input="a-long-password\n")
    assert result.exit_code == 2, result.output
    assert expected in result.output and "secret" not in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.slow
def test_a_picture_of_nobody_says_so_once_with_exit_code_3(tmp_path):
    import cv2
    import numpy as np

    picture = tmp_path / "empty_room.png"
    cv2.imwrite(str(picture), np.full((240, 320, 3), 90, np.uint8))
    result = CliRunner().invoke(app, ["analyze", str(picture), "-e", "squat", "--no-progress"])
    assert result.exit_code == 3
    assert "1 frame (" in result.output
    assert result.output.count("nobody was seen in the video") == 1


def test_the_summary_reads_as_words(capsys):
    from formcheck.cli import _print_summary

    rep = {"index": 1, "start_s": 1.0, "end_s": 2.5, "score": 80.0, "faults": ["hips_sagging"]}
    report = {
        "source": "clip.mp4", "exercise": "pushup", "frames": 100, "duration_s": 3.3, "frames_with_person": 100,
        "model": "full", "rep_count": 1, "reps": [rep], "notices": [],
        "holds": [{"start_s": 0.5, "end_s": 3.0, "duration_s": 2.5, "target_s": None, "faults": ["bent_knee"]}],
        "warnings": [{"t_s": float(i), "rule": "hips_sagging", "message": "keep your hips up"} for i in range(12)],
    }
    _print_summary(report)
    out = capsys.readouterr().out
    assert "score 80  hips sagging" in out and "_" not in out.replace("clip.mp4", "")
    assert "hold 0.5-3.0 s: 2.5 s  bent knee" in out and "None" not in out
    assert "... and 2 more" in out


@pytest.mark.parametrize("port", ["0", "99999"])
def test_serve_refuses_a_port_out_of_range(port):
    result = CliRunner().invoke(app, ["serve", "--port", port])
    assert result.exit_code == 2 and "--port" in result.output


def test_models_build_refuses_an_unknown_variant_before_building():
    result = CliRunner().invoke(app, ["models", "build", "huge"])
    assert result.exit_code == 2 and "unknown pose model 'huge'" in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["bench", "--frames", "0"], "--frames"),
        (["bench-server", "--clip", "no/such/clip.mp4"], "no such file"),
        (["bench-server", "--exercise", "sqaut"], "unknown exercise 'sqaut'"),
        (["eval", "{tmp}", "--json", "{tmp}"], "is a folder"),
        (["eval-datasets", "--json", "{tmp}"], "is a folder"),
    ],
)
def test_benchmarks_refuse_bad_arguments_before_starting(tmp_path, args, expected):
    result = CliRunner().invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2 and expected in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", [["serve"], ["users", "list"], ["users", "add", "ther_qa", "--password-stdin"]])
def test_an_unwritable_data_folder_is_a_message(monkeypatch, command):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", "/proc/no/formcheck")
    monkeypatch.delenv("FORMCHECK_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, command, input="a-long-password\n")
    assert result.exit_code == 2 and "cannot create the data folder /proc/no/formcheck" in result.output
    assert isinstance(result.exception, SystemExit)


def test_live_refuses_an_unwritable_screenshot_folder(tmp_path):
    result = CliRunner().invoke(app, ["live", "--source", str(tmp_path / "x.mp4"), "-e", "squat", "--no-window",
                                      "--screenshot-dir", "/proc/no/shots"])
    assert result.exit_code == 2 and "--screenshot-dir: cannot create /proc/no/shots" in result.output
