"""Storage shared by live sessions, the upload worker and the server: tables, migrations and the session store."""

from formcheck.storage import specs  # noqa: F401  (registers the exercise_specs table on the shared metadata)
