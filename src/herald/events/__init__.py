"""Triggers: `/v1/events/trigger` (single, bulk, broadcast) and cancel."""
