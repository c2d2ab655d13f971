"""Every table, imported here so that the metadata is complete for migrations and tests."""

from herald.models.api_key import ApiKey
from herald.models.base import Base
from herald.models.digest import Digest
from herald.models.digest_event import DigestEvent
from herald.models.environment import Environment
from herald.models.event import Event
from herald.models.execution_detail import ExecutionDetail
from herald.models.idempotency_record import IdempotencyRecord
from herald.models.integration import Integration
from herald.models.job import Job
from herald.models.message import Message
from herald.models.notification import Notification
from herald.models.organization import Organization
from herald.models.rate_limit_override import RateLimitOverride
from herald.models.subscriber import Subscriber
from herald.models.subscriber_preference import GLOBAL_PREFERENCE, SubscriberPreference
from herald.models.throttle_window import ThrottleWindow
from herald.models.topic import Topic
from herald.models.topic_subscription import TopicSubscription
from herald.models.workflow import Workflow, WorkflowStep
from herald.models.workflow_snapshot import WorkflowSnapshot

__all__ = [
    "GLOBAL_PREFERENCE",
    "ApiKey",
    "Base",
    "Digest",
    "DigestEvent",
    "Environment",
    "Event",
    "ExecutionDetail",
    "IdempotencyRecord",
    "Integration",
    "Job",
    "Message",
    "Notification",
    "Organization",
    "RateLimitOverride",
    "Subscriber",
    "SubscriberPreference",
    "ThrottleWindow",
    "Topic",
    "TopicSubscription",
    "Workflow",
    "WorkflowSnapshot",
    "WorkflowStep",
]
