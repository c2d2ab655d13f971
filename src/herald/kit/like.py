"""LIKE patterns built from caller text, with the wildcards in that text escaped (ESCAPE '\\')."""

from __future__ import annotations

LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_pattern(text: str) -> str:
    return f"{escape_like(text)}%"


def contains_pattern(text: str) -> str:
    return f"%{escape_like(text)}%"
