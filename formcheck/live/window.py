"""The preview window (OpenCV): shows canvases and reports key presses and the window being closed."""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.live.display import check_display

WINDOW_TITLE = "formcheck live"
KEY_NAMES = {32: "space", 13: "enter", 10: "enter", 27: "esc", 141: "enter"}


class Window:
    """One resizable window; :meth:`show` and :meth:`poll` return the key pressed (``"q"`` when closed)."""

    def __init__(self, size: tuple[int, int]):
        check_display()
        cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        cv2.resizeWindow(WINDOW_TITLE, *size)
        self.opened = True

    def show(self, canvas: np.ndarray) -> str | None:
        if not self.opened:  # closed by the person: imshow would open it again
            return None
        cv2.imshow(WINDOW_TITLE, canvas)
        return self.poll()

    def poll(self) -> str | None:
        """Process window events; the key pressed, if any."""
        code = cv2.waitKey(1)
        try:
            visible = cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) >= 1
        except cv2.error:  # Qt drops its GUI state once the last window is closed
            visible = False
        if not visible:
            self.opened = False
            return "q"
        if code < 0:
            return None
        code &= 0xFFFF
        if code in KEY_NAMES:
            return KEY_NAMES[code]
        code &= 0xFF
        return KEY_NAMES.get(code) or (chr(code).lower() if 32 < code < 127 else None)

    def close(self) -> None:
        if self.opened:
            self.opened = False
            try:
                cv2.destroyWindow(WINDOW_TITLE)
                cv2.waitKey(1)
            except cv2.error:
                pass  # already gone
