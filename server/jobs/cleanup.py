"""Leftovers of killed or finished work, removed at start-up (server and workers) and idempotent everywhere:

- partial files in ``data_dir/tmp`` whose writer process is gone (an annotated video cut short by a kill -9);
- stored annotated videos no session references, and uploads no job references (a process killed between
  storing a file and committing its row), once older than ``grace_s`` (another worker may be about to commit);
- uploads of failed or cancelled jobs after ``upload_retention_days`` (until then the job can be retried).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from formcheck.core.settings import Settings
from formcheck.storage.database import ExerciseSession, Job, Store, utcnow
from server.storage.videos import UPLOADS, VIDEOS, VideoStore, sweep_partial

log = logging.getLogger("formcheck.cleanup")
ORPHAN_GRACE_S = 15 * 60


@dataclass
class Swept:
    """What a sweep removed (names)."""

    partial: list[str] = field(default_factory=list)
    orphan_videos: list[str] = field(default_factory=list)
    orphan_uploads: list[str] = field(default_factory=list)
    expired_uploads: list[str] = field(default_factory=list)

    def total(self) -> int:
        return len(self.partial) + len(self.orphan_videos) + len(self.orphan_uploads) + len(self.expired_uploads)


def sweep(store: Store, videos: VideoStore, settings: Settings, grace_s: float = ORPHAN_GRACE_S) -> Swept:
    """Remove leftovers (see the module's docstring); returns what was removed."""
    swept = Swept(partial=sweep_partial(settings.data_dir))
    old = time.time() - grace_s
    with store.session() as db:
        kept_videos = set(db.scalars(select(ExerciseSession.video_file).where(ExerciseSession.video_file.is_not(None))))
        referenced = set(db.scalars(select(Job.upload_file)))
    for name, modified in list(videos.names(VIDEOS)):
        if name not in kept_videos and modified < old:
            videos.delete(VIDEOS, name)
            swept.orphan_videos.append(name)
    for name, modified in list(videos.names(UPLOADS)):
        if name not in referenced and modified < old:
            videos.delete(UPLOADS, name)
            swept.orphan_uploads.append(name)
    swept.expired_uploads = expire_uploads(store, videos, settings)
    if swept.total():
        log.info("removed leftovers: %s", swept)
    return swept


def expire_uploads(store: Store, videos: VideoStore, settings: Settings) -> list[str]:
    """Delete the uploads of jobs failed or cancelled more than ``upload_retention_days`` ago."""
    cutoff = utcnow() - timedelta(days=settings.upload_retention_days)
    removed = []
    with store.session() as db:
        jobs = db.scalars(select(Job).where(Job.status.in_(("failed", "cancelled")))).all()
        for job in jobs:
            updated = job.updated_at if job.updated_at.tzinfo else job.updated_at.replace(tzinfo=cutoff.tzinfo)
            if updated < cutoff and videos.exists(UPLOADS, job.upload_file):
                videos.delete(UPLOADS, job.upload_file)
                removed.append(job.upload_file)
    return removed
