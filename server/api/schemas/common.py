"""Types shared by the schemas: datetimes always with their time zone (UTC when the database forgot it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def _with_timezone(value: datetime) -> datetime:
    """SQLite gives back stored UTC times without a time zone: mark them as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_with_timezone)]
