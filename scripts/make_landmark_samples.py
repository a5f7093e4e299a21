"""Rebuild samples/landmarks/*.npz: compact (float16) landmark streams of a few shared clips for regression tests.

First cache the full-model streams:
    formcheck analyze ../shared/data/videos/<clip> --exercise none --landmarks out/landmarks/<clip without ext>.npz
then run: .venv/bin/python scripts/make_landmark_samples.py
"""

from pathlib import Path

import numpy as np

from formcheck.io.recording import PoseStream

CACHE = Path("out/landmarks")
OUT = Path("samples/landmarks")
CLIPS = {  # sample name: (cached stream, keep every n-th frame, (start s, end s) or None); each file < 300 KB
    "legraise_supine": ("physiobody/legraise", 1, None),
    "squat_oblique": ("mrpose/squat2", 1, (1.0, 21.0)),
    "pushup_side": ("tayyab/pushup", 1, (22.5, 47.0)),
    "keraal_hide_face_correct": ("keraal/cacheTete/Correct0", 1, None),
    "keraal_hide_face_both_arms_low": ("keraal/cacheTete/Error1Bodypart3_0", 1, None),
    "plank_views": ("mrpose/plank", 3, (0.0, 58.0)),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (clip, step, span) in CLIPS.items():
        s = PoseStream.load(CACHE / f"{clip}.npz")
        keep = np.arange(len(s))[::step]
        if span:
            keep = keep[(s.timestamps[keep] >= span[0]) & (s.timestamps[keep] <= span[1])]
        meta = {**s.meta, "clip": clip, "frame_step": step}
        sample = PoseStream(s.landmarks[keep].astype(np.float16), s.world[keep].astype(np.float16),
                            s.timestamps[keep], s.people[keep], s.image_size, meta)
        path = sample.save(OUT / f"{name}.npz")
        print(f"{path}: {len(sample)} frames, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
