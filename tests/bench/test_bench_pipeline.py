"""``formcheck bench``'s pieces on a short clip: the offline pipeline with the stride off sees every frame, with the
stride on fewer, and the table reads the numbers it is given (speed itself is measured, never asserted)."""

from __future__ import annotations

import av
import pytest

from formcheck.bench.pipeline import format_table, letterbox_clip, pipeline_run

pytestmark = pytest.mark.slow


def test_pipeline_runs_with_and_without_the_stride(tmp_path, sample_squat):
    clip = letterbox_clip(sample_squat, tmp_path / "clip.mp4", (320, 240), max_frames=90)
    with av.open(str(clip)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    off, _, n_off = pipeline_run(clip, "lite", "squat", None, max_stride=1)
    on, _, n_on = pipeline_run(clip, "lite", "squat", tmp_path / "a.mp4", max_stride=3)
    assert n_off == n_on == 90 and off.frames == on.frames == 90
    assert off.model_frames == 90
    assert on.model_frames < 90  # the lifter stands still in the clip's first seconds
    with av.open(str(tmp_path / "a.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 90  # every frame in the annotated video


def test_table_shows_every_model_and_ratio():
    stages = {"2 parts": {"pose": 1.0}, "one part": {"pose": 1.0}, "stride": {"pose": 0.5},
              "one part + video": {"pose": 1.0}}
    model = dict(bare_ms=20.0, bare_fps=50.0, pipeline_fps=90.0, pipeline_over_bare=1.8, realtime_factor_30fps=3.0,
                 model_frames_fraction=1.0, one_part_fps=48.0, one_part_over_bare=0.96,
                 one_part_realtime_factor_30fps=1.6, stride_fps=70.0, stride_over_bare=1.4,
                 stride_model_frames_fraction=0.5, annotated_fps=60.0, annotated_realtime_factor_30fps=2.0,
                 annotated_over_source_size=1.1, stage_ms=stages)
    result = dict(clip="c.mp4", resolution="1280x720", source_bytes=1000, frames=300, decode_ms=1.5, max_stride=3,
                  threads=2, repeat=2, peak_rss_mb=900,
                  models={"lite": model, "full": {**model, "pipeline_over_bare": 1.55}},
                  live_640x480={"analysed_fps": 25})
    table = format_table(result)
    lines = table.splitlines()
    assert any(line.startswith("lite") and "1.8" in line and "0.96" in line and "50%" in line for line in lines)
    assert any(line.startswith("full") and "1.55" in line for line in lines)
    assert "one part + video" in table and "1.1x" in table and "2 parts" in table and "median of 2 rounds" in table
