"""Throughput of the engine's pure pieces: Liquid rendering of step controls, skip rules, payload schemas.

Each figure is compared with a baseline measured in the same run: formatting the same
strings with `str.format` (rendering), and a hand-written Python `if` (conditions).
Run: python bench/render_and_conditions.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from herald.engine.conditions import should_skip
from herald.engine.payload_schema import payload_errors
from herald.engine.render import RenderContext, render_controls

ROUNDS = 20_000
CONTROLS = {
    "subject": "Order {{ payload.order.id }} shipped",
    "body": "Hi {{ subscriber.firstName | capitalize }}, {{ payload.count | pluralize: 'item' }} shipped",
    "primaryAction": {"label": "Track", "redirect": {"url": "https://shop.test/o/{{ payload.order.id }}"}},
    "data": {"orderId": "{{ payload.order.id }}", "static": "no markup"},
}
CONTEXT = RenderContext(payload={"order": {"id": "A-17"}, "count": 3}, subscriber={"firstName": "ada"})
SKIP = {
    "and": [
        {"==": [{"var": "payload.tier"}, "pro"]},
        {">": [{"var": "payload.amount"}, "4"]},
        {"startsWith": [{"var": "subscriber.email"}, "ada"]},
    ]
}
DATA = {"payload": {"tier": "pro", "amount": 7}, "subscriber": {"email": "ada@example.com"}}
SCHEMA = {
    "type": "object",
    "properties": {"order": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}},
    "required": ["order"],
}


def per_second(work: Callable[[], Any]) -> float:
    work()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        work()
    return ROUNDS / (time.perf_counter() - started)


def format_baseline() -> dict[str, Any]:
    order, name, count = (
        CONTEXT.payload["order"]["id"],
        CONTEXT.subscriber["firstName"],
        CONTEXT.payload["count"],
    )
    return {
        "subject": f"Order {order} shipped",
        "body": f"Hi {name.capitalize()}, {count} items shipped",
        "primaryAction": {"label": "Track", "redirect": {"url": f"https://shop.test/o/{order}"}},
        "data": {"orderId": f"{order}", "static": "no markup"},
    }


def if_baseline() -> bool:
    payload, subscriber = DATA["payload"], DATA["subscriber"]
    return not (
        payload["tier"] == "pro" and float(payload["amount"]) > 4 and subscriber["email"].startswith("ada")
    )


def main() -> None:
    rows = [
        (
            "render step controls",
            per_second(lambda: render_controls(CONTROLS, CONTEXT)),
            per_second(format_baseline),
        ),
        ("evaluate skip rule", per_second(lambda: should_skip(SKIP, DATA)), per_second(if_baseline)),
        ("validate payload", per_second(lambda: payload_errors(SCHEMA, {"order": {"id": "x"}})), None),
    ]
    lines = []
    for name, rate, baseline in rows:
        ratio = f"  ({rate / baseline:.3f} of baseline {baseline:,.0f}/s)" if baseline else ""
        lines.append(f"{name:<22} {rate:>12,.0f}/s{ratio}")
    report = "\n".join(lines)
    print(report)
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "render_and_conditions.txt").write_text(report + "\n")


if __name__ == "__main__":
    main()
