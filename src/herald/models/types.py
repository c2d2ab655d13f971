"""Column types shared by several tables."""

from __future__ import annotations

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB

# JSON documents: JSONB on PostgreSQL (indexable, `?|` containment), JSON text on SQLite.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")
