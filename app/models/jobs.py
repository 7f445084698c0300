"""Long tasks run by RQ (all posters at once, exports): their progress is a row, so a page can show it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.people import User
from app.models.types import UtcDateTime


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobRun(db.Model):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What it builds: "posters_pdf", "posters_zip", "responses_xlsx"...
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=JobStatus.QUEUED,
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: The finished file: the store that keeps it ("folder", "database", "s3": app.services.file_store),
    #: its key there, its size, and the name it downloads as.
    file_store: Mapped[str | None] = mapped_column(String(16))
    file_key: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_name: Mapped[str | None] = mapped_column(String(200))
    mimetype: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User | None] = relationship()

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class FileChunk(db.Model):
    """One piece (at most 1 MiB) of a file kept in the database (LOOPDESK_FILE_STORE=database)."""

    __tablename__ = "file_chunks"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class HeldJob(db.Model):
    """A job that could not be handed to Redis (it was away): kept here until a worker hands it over.

    ``app.jobs.enqueue`` writes it; ``app.jobs.hand_over_held`` (a worker starting or reconnecting,
    and the cron every ``HAND_OVER_SECONDS``) enqueues it and deletes the row. Jobs are safe to run
    twice, so a row handed over twice by a crash between the two costs nothing.
    """

    __tablename__ = "held_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The entry point's dotted path, always under app.jobs: "app.jobs.responses.response_submitted".
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    timeout: Mapped[int] = mapped_column(default=300)
    held_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
