"""Workflows (Novu v2 API): definitions, steps and their controls, previews, sync."""
