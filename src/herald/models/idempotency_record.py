from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, IdMixin


class IdempotencyRecord(IdMixin, Base):
    """One `Idempotency-Key` of one environment: claimed, then holding the response to replay.

    `status_code` is NULL while the claim has no recorded response yet.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("environment_id", "idempotency_key", name="uq_idempotency_records_environment_id"),
    )

    environment_id: Mapped[str] = mapped_column(String(24), ForeignKey("environments.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    claim_token: Mapped[str] = mapped_column(String(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
