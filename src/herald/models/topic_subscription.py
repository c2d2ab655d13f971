from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class TopicSubscription(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """One subscriber's membership of one topic.

    `(topic_id, id)` is the index that listing and fan-out page through by cursor, so a
    topic of a million members is read a chunk at a time.
    """

    __tablename__ = "topic_subscriptions"
    __table_args__ = (
        UniqueConstraint("topic_id", "subscriber_pk", name="uq_topic_subscriptions_topic_subscriber"),
        Index("ix_topic_subscriptions_topic_id_id", "topic_id", "id"),
        Index("ix_topic_subscriptions_subscriber_pk", "subscriber_pk"),
    )

    topic_id: Mapped[str] = mapped_column(String(24), ForeignKey("topics.id", ondelete="CASCADE"))
    subscriber_pk: Mapped[str] = mapped_column(String(24), ForeignKey("subscribers.id", ondelete="CASCADE"))
