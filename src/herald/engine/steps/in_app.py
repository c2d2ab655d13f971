"""The in-app step: store the message for the Inbox, then announce it (after commit)."""

from __future__ import annotations

from typing import Any

from herald.engine.details import DetailStatus, record_detail
from herald.engine.repository import MessageRepository
from herald.engine.steps.base import ContinueNow, StepContext, StepOutcome
from herald.engine.steps.rendering import delivered_message, rendered_controls
from herald.kit.after_commit import after_commit

IN_APP_PROVIDER = "novu"
_CONTROLS = ("subject", "body", "avatar", "primaryAction", "secondaryAction", "redirect", "data")


def _redirect(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not value.get("url"):
        return None
    return {"url": value["url"], **({"target": value["target"]} if value.get("target") else {})}


def _button(kind: str, action: Any) -> dict[str, Any] | None:
    if not isinstance(action, dict) or not action.get("label"):
        return None
    button: dict[str, Any] = {"type": kind, "content": action["label"]}
    redirect = _redirect(action.get("redirect"))
    if redirect:
        button.update(redirect)
    return button


def build_cta(controls: dict[str, Any]) -> dict[str, Any]:
    """Novu's message `cta`: the main redirect, and the primary/secondary action buttons."""
    redirect = _redirect(controls.get("redirect"))
    buttons = [
        button
        for button in (
            _button("primary", controls.get("primaryAction")),
            _button("secondary", controls.get("secondaryAction")),
        )
        if button
    ]
    cta: dict[str, Any] = {"type": "redirect", "data": redirect or {}}
    if buttons:
        cta["action"] = {"status": "pending", "buttons": buttons, "result": {"payload": {}, "type": None}}
    return cta


IN_APP_SENT = "Message sent to the in-app feed"


def in_app_message(ctx: StepContext) -> dict[str, Any]:
    """The message row this step stores (rendered; a `RenderError` names the field)."""
    controls = rendered_controls(ctx, _CONTROLS)
    return {
        **delivered_message(ctx, "in_app", IN_APP_PROVIDER, controls),
        "error_text": None,
        "destination": None,
        "avatar": controls.get("avatar") or None,
        "cta": build_cta(controls),
        "snoozed_until": None,
        "first_seen_at": None,
        "last_read_at": None,
        "archived_at": None,
    }


def sent_detail_raw(message_id: str) -> dict[str, Any]:
    return {"messageId": message_id}


async def run_in_app_step(ctx: StepContext) -> StepOutcome:
    message_id = await MessageRepository(ctx.session, ctx.scope).insert_once(in_app_message(ctx), ctx.now)
    if message_id is None:
        return ContinueNow()
    record_detail(
        ctx,
        DetailStatus.SUCCESS,
        IN_APP_SENT,
        channel="in_app",
        provider_id=IN_APP_PROVIDER,
        raw=sent_detail_raw(message_id),
    )
    realtime, environment_id, subscriber_pk = ctx.realtime, ctx.scope.environment_id, ctx.subscriber_row_id

    async def announce() -> None:
        await realtime.message_delivered(environment_id, subscriber_pk, message_id)

    after_commit(ctx.session, announce)
    return ContinueNow(outputs={"messageId": message_id})
