"""MediaPipe's native info and warning lines stay out of logs; errors, Python output and tracebacks do not."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import os, sys
from formcheck.pose.estimator import filter_native_logs
filter_native_logs()
os.write(2, b"W0000 00:00:1796183366.719248   29454 inference_runner_litert.cc:1433] memory is not aligned\n")
os.write(2, b"INFO: [environment.cc:36] Creating LiteRT environment with options\n")
os.write(2, b"WARNING: [model_load.cc:402] Sparsity tensors may not yet be fully supported.\n")
os.write(2, b"E0000 00:00:1796183366.7 native error kept\n")
print("python message kept", file=sys.stderr)
raise RuntimeError("traceback kept")
"""


def test_native_warnings_are_filtered_and_the_rest_kept():
    env = {k: v for k, v in __import__("os").environ.items() if k != "FORMCHECK_VERBOSE"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, env=env)
    err = proc.stderr
    assert proc.returncode == 1
    assert "not aligned" not in err and "LiteRT environment" not in err and "Sparsity" not in err
    assert "native error kept" in err and "python message kept" in err and "RuntimeError: traceback kept" in err
