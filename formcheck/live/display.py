"""Whether a preview window can open: OpenCV's Qt window aborts the process without a display, so say so first."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

from formcheck.live.options import LiveError


def check_display() -> None:
    """Raise :class:`LiveError` with advice when there is no desktop session to open a window on (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    display = os.environ.get("DISPLAY")
    if not (display or os.environ.get("WAYLAND_DISPLAY")):
        raise LiveError(
            "no display: the preview window needs a desktop session (DISPLAY is not set). "
            "Under a virtual X server: xvfb-run formcheck live ..."
        )
    if display and not os.environ.get("WAYLAND_DISPLAY") and not x_display_reachable():
        raise LiveError(f"cannot connect to the display {display}: is the desktop session (X server) running?")


def x_display_reachable(display: str | None = None) -> bool:
    """Whether libX11 can open ``display`` (default $DISPLAY; True when libX11 cannot be loaded: let the GUI
    toolkit decide)."""
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        x11 = ctypes.cdll.LoadLibrary(name)
    except OSError:
        return True
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = x11.XOpenDisplay(display.encode() if display else None)
    if not handle:
        return False
    x11.XCloseDisplay(handle)
    return True
