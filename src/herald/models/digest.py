from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin

DIGEST_OPEN = "open"
DIGEST_CLOSED = "closed"


class Digest(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """One digest window of one digest step for one subscriber and digest key.

    At most one window per key is open (a partial unique index); the run that opened it
    resumes at `window_end`, closes it and delivers every event attached to it. An event that
    a look-back (backoff) digest sends at once is recorded as a window closed on creation, so
    that later events see it in their look-back."""

    __tablename__ = "digests"
    __table_args__ = (
        Index(
            "uq_digests_open_key",
            "subscriber_id",
            "workflow_identifier",
            "step_id",
            "digest_key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index(
            "ix_digests_key_last_event_at",
            "subscriber_id",
            "workflow_identifier",
            "step_id",
            "digest_key",
            "last_event_at",
        ),
    )

    subscriber_id: Mapped[str] = mapped_column(String(24), ForeignKey("subscribers.id", ondelete="CASCADE"))
    workflow_identifier: Mapped[str] = mapped_column(String(255))
    step_id: Mapped[str] = mapped_column(String(255))
    digest_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
