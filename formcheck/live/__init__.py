"""``formcheck live``: the preview window, its keys and HUD, driving the frame loop from a camera or a video file."""
