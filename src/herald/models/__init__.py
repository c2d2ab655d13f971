"""Every table, imported here so that the metadata is complete for migrations and tests."""

from herald.models.api_key import ApiKey
from herald.models.base import Base
from herald.models.environment import Environment
from herald.models.idempotency_record import IdempotencyRecord
from herald.models.organization import Organization
from herald.models.rate_limit_override import RateLimitOverride

__all__ = ["ApiKey", "Base", "Environment", "IdempotencyRecord", "Organization", "RateLimitOverride"]
