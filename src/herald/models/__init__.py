"""Every table, imported here so that the metadata is complete for migrations and tests."""

from herald.models.api_key import ApiKey
from herald.models.base import Base
from herald.models.environment import Environment
from herald.models.job import Job
from herald.models.organization import Organization
from herald.models.workflow import Workflow, WorkflowStep

__all__ = ["ApiKey", "Base", "Environment", "Job", "Organization", "Workflow", "WorkflowStep"]
