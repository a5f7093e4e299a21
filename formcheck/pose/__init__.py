"""Pose stage: the ``Pose`` type, the MediaPipe estimator, smoothing, landmark indices and model bundles."""
