"""Sources and sinks at the edges of the frame loop: video, camera and image sources, landmark recordings,
the annotated video."""
