"""Workflow bodies shared by the workflow tests."""

from typing import Any

ALL_STEP_TYPES: list[dict[str, Any]] = [
    {
        "name": "Inbox",
        "type": "in_app",
        "controlValues": {
            "subject": "Order {{ payload.order.id }}",
            "body": "Hi {{ subscriber.firstName }}, your order shipped",
            "avatar": "https://example.com/a.png",
            "primaryAction": {"label": "Track", "redirect": {"url": "/orders/{{ payload.order.id }}"}},
            "data": {"orderId": "{{ payload.order.id }}"},
            "skip": {"==": [{"var": "payload.tier"}, "pro"]},
        },
    },
    {"name": "Wait", "type": "delay", "controlValues": {"type": "regular", "amount": 5, "unit": "minutes"}},
    {
        "name": "Collect",
        "type": "digest",
        "controlValues": {
            "amount": 1,
            "unit": "hours",
            "lookBackWindow": {"amount": 5, "unit": "minutes"},
            "digestKey": "payload.order.id",
        },
    },
    {"name": "Limit", "type": "throttle", "controlValues": {"amount": 1, "unit": "hours", "threshold": 3}},
    {
        "name": "Email",
        "type": "email",
        "controlValues": {
            "subject": "{{ steps.collect.events | size }} updates",
            "body": "<p>Hello</p>",
            "disableOutputSanitization": True,
        },
    },
    {"name": "SMS", "type": "sms", "controlValues": {"body": "Order {{ payload.order.id }}"}},
    {"name": "Push", "type": "push", "controlValues": {"subject": "Shipped", "body": "On its way"}},
    {"name": "Chat", "type": "chat", "controlValues": {"body": "Shipped"}},
    {"name": "Hook", "type": "custom", "controlValues": {"custom": {"anything": [1, 2]}}},
]


def workflow_body(workflow_id: str = "order-shipped", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Order shipped",
        "workflowId": workflow_id,
        "active": True,
        "steps": [{"name": "Inbox", "type": "in_app", "controlValues": {"body": "Hello"}}],
    }
    body.update(fields)
    return body
