"""Background analysis of uploads: the job runner (state in the database) and the worker function it runs."""
