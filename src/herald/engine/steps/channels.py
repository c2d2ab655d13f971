"""Email, SMS, push and chat steps: render, find the subscriber's address for the channel,
and deliver through the local development provider.

The development provider delivers nowhere: it writes one structured log line per message and
the message is stored as sent, with its destination. Real providers replace it in the
providers issue. A subscriber without the address or credential a channel needs has the step
skipped, with an execution detail that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog

from herald.engine.details import DetailStatus, record_detail
from herald.engine.repository import MessageRepository
from herald.engine.steps.base import ContinueNow, StepContext, StepExecutor, StepOutcome
from herald.engine.steps.rendering import delivered_message, rendered_controls

log = structlog.get_logger("herald.providers.development")

DEVELOPMENT_PROVIDER = "herald-development"
PUSH_PROVIDERS = frozenset(
    {"fcm", "apns", "expo", "one-signal", "pushpad", "push-webhook", "pusher-beams", "appio"}
)


def _email(subscriber: dict[str, Any]) -> str | None:
    return subscriber.get("email") or None


def _phone(subscriber: dict[str, Any]) -> str | None:
    return subscriber.get("phone") or None


def _channel_settings(subscriber: dict[str, Any], push: bool) -> list[dict[str, Any]]:
    return [
        channel
        for channel in subscriber.get("channels") or []
        if isinstance(channel, dict) and (channel.get("providerId") in PUSH_PROVIDERS) == push
    ]


def _device_tokens(subscriber: dict[str, Any]) -> str | None:
    for channel in _channel_settings(subscriber, push=True):
        tokens = (channel.get("credentials") or {}).get("deviceTokens") or []
        if tokens:
            return f"{channel['providerId']}:{len(tokens)} device token(s)"
    return None


def _chat_destination(subscriber: dict[str, Any]) -> str | None:
    """Where a chat message goes; a webhook URL is shown as its host only (it holds a secret)."""
    for channel in _channel_settings(subscriber, push=False):
        credentials = channel.get("credentials") or {}
        if credentials.get("webhookUrl"):
            return f"{channel['providerId']}:{urlsplit(credentials['webhookUrl']).netloc}"
        if credentials.get("channel"):
            return f"{channel['providerId']}:{credentials['channel']}"
    return None


@dataclass(frozen=True)
class ChannelSpec:
    channel: str
    controls: tuple[str, ...]
    destination: Callable[[dict[str, Any]], str | None]
    missing: str


CHANNEL_SPECS = {
    "email": ChannelSpec("email", ("subject", "body"), _email, "the subscriber has no email address"),
    "sms": ChannelSpec("sms", ("body",), _phone, "the subscriber has no phone number"),
    "push": ChannelSpec(
        "push", ("subject", "body", "data"), _device_tokens, "the subscriber has no push device tokens"
    ),
    "chat": ChannelSpec("chat", ("body",), _chat_destination, "the subscriber has no chat credentials"),
}


def channel_step(spec: ChannelSpec) -> StepExecutor:
    async def run_channel_step(ctx: StepContext) -> StepOutcome:
        destination = spec.destination(ctx.subscriber)
        if destination is None:
            record_detail(
                ctx,
                DetailStatus.WARNING,
                f"Step skipped: {spec.missing}",
                channel=spec.channel,
                raw={"reason": "missing_destination"},
            )
            return ContinueNow()
        controls = rendered_controls(ctx, spec.controls)
        message_id = await MessageRepository(ctx.session, ctx.scope).insert_once(
            {
                **delivered_message(ctx, spec.channel, DEVELOPMENT_PROVIDER, controls),
                "destination": destination,
                "cta": {},
            },
            ctx.now,
        )
        if message_id is None:
            return ContinueNow()
        log.info(
            "development_provider_delivered",
            channel=spec.channel,
            destination=destination,
            message_id=message_id,
            transaction_id=ctx.transaction_id,
            workflow=ctx.workflow.identifier,
            step=ctx.step.step_id,
        )
        record_detail(
            ctx,
            DetailStatus.SUCCESS,
            f"Message sent through the development provider to {destination}",
            channel=spec.channel,
            provider_id=DEVELOPMENT_PROVIDER,
            raw={"messageId": message_id},
        )
        return ContinueNow(outputs={"messageId": message_id})

    run_channel_step.__name__ = f"run_{spec.channel}_step"
    return run_channel_step
