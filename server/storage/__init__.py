"""Where uploaded and annotated videos are kept: the local data folder, or S3-compatible object storage."""
