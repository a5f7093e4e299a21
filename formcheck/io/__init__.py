"""Sources and sinks at the edges of the frame loop: video/camera/image sources, landmark recordings, the annotated video."""
