"""Cursor pagination as Novu's v2 lists page: `after` / `before` name an item's id.

Pages are read by keyset on `(sort column, id)`, so page N costs the same as page 1 however
large the table is. A cursor that does not name a row of the filtered query is ignored, as
Novu does. Totals are counted up to `COUNT_CAP` rows and reported as capped beyond it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query
from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from herald.errors import FieldValidationError

T = TypeVar("T")
ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]
COUNT_CAP = 50_000
MAX_LIMIT = 100


@dataclass(frozen=True)
class CursorParams:
    after: str | None = None
    before: str | None = None
    limit: int = 10
    descending: bool = True
    order_by: str | None = None
    include_cursor: bool = False


def cursor_params(
    after: Annotated[
        str | None, Query(max_length=64, description="Return the items after the one with this id.")
    ] = None,
    before: Annotated[
        str | None, Query(max_length=64, description="Return the items before the one with this id.")
    ] = None,
    limit: Annotated[float, Query(ge=1, le=MAX_LIMIT, description="Items per page (max 100).")] = 10,
    order_direction: Annotated[Literal["ASC", "DESC"], Query(alias="orderDirection")] = "DESC",
    order_by: Annotated[str | None, Query(alias="orderBy", max_length=64)] = None,
    include_cursor: Annotated[bool, Query(alias="includeCursor")] = False,
) -> CursorParams:
    return CursorParams(
        after=after or None,
        before=before or None,
        limit=int(limit),
        descending=order_direction == "DESC",
        order_by=order_by or None,
        include_cursor=include_cursor,
    )


Cursor = Annotated[CursorParams, Depends(cursor_params)]


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    items: list[T]
    next: str | None
    previous: str | None
    total_count: int
    total_count_capped: bool

    def map(self, convert: Callable[[T], Any]) -> CursorPage[Any]:
        return CursorPage(
            [convert(item) for item in self.items],
            self.next,
            self.previous,
            self.total_count,
            self.total_count_capped,
        )


def sort_column(params: CursorParams, columns: Mapping[str, ColumnLike]) -> ColumnLike:
    """The column named by `orderBy` (wire name), or the first one (the id) when none is given."""
    if params.order_by is None:
        return next(iter(columns.values()))
    try:
        return columns[params.order_by]
    except KeyError:
        allowed = ", ".join(columns)
        raise FieldValidationError(
            {"orderBy": f"orderBy must be one of: {allowed}"}, {"orderBy": params.order_by}
        ) from None


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    id_column: ColumnLike,
    sort: ColumnLike,
    params: CursorParams,
) -> CursorPage[Row[Any]]:
    """One page of `statement`'s rows (already filtered), with neighbours' cursors and the total."""
    backwards = params.before is not None and params.after is None
    cursor_id = params.before if backwards else params.after
    walk_descending = params.descending != backwards

    page_statement = statement
    if cursor_id is not None:
        cursor_row = (
            await session.execute(
                statement.with_only_columns(sort, id_column).where(id_column == cursor_id).limit(1)
            )
        ).first()
        if cursor_row is None:
            cursor_id = None
        else:
            page_statement = page_statement.where(
                _beyond(sort, id_column, cursor_row[0], cursor_row[1], walk_descending, params.include_cursor)
            )
    ordering = [id_column.desc()] if walk_descending else [id_column.asc()]
    if sort is not id_column:
        ordering.insert(0, sort.desc() if walk_descending else sort.asc())
    rows: Sequence[Row[Any]] = (
        await session.execute(page_statement.order_by(*ordering).limit(params.limit + 1))
    ).all()
    more = len(rows) > params.limit
    items = list(rows[: params.limit])
    if backwards:
        items.reverse()

    def id_of(row: Row[Any]) -> str:
        return str(getattr(row[0], "id", row[0]))

    first, last = (id_of(items[0]), id_of(items[-1])) if items else (None, None)
    if cursor_id is None:
        next_cursor, previous_cursor = (last if more else None), None
    elif backwards:
        next_cursor, previous_cursor = last, (first if more else None)
    else:
        next_cursor, previous_cursor = (last if more else None), first
    total, capped = await count_capped(session, statement.with_only_columns(id_column))
    return CursorPage(items, next_cursor, previous_cursor, total, capped)


async def count_capped(
    session: AsyncSession, statement: Select[Any], cap: int = COUNT_CAP
) -> tuple[int, bool]:
    """How many rows `statement` gives, counting no further than `cap`."""
    limited = statement.order_by(None).limit(cap + 1).subquery()
    total = int((await session.execute(select(func.count()).select_from(limited))).scalar_one())
    return min(total, cap), total > cap


def _beyond(
    sort: ColumnLike,
    id_column: ColumnLike,
    sort_value: Any,
    id_value: Any,
    descending: bool,
    inclusive: bool,
) -> ColumnElement[bool]:
    past_id: ColumnElement[bool]
    beyond_sort: ColumnElement[bool]
    if descending:
        past_id = id_column <= id_value if inclusive else id_column < id_value
        beyond_sort = sort < sort_value
    else:
        past_id = id_column >= id_value if inclusive else id_column > id_value
        beyond_sort = sort > sort_value
    if sort is id_column:
        return past_id
    return or_(beyond_sort, and_(sort == sort_value, past_id))
