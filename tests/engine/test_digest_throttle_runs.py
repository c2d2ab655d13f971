"""Digest and throttle steps through real triggers, end to end."""

from __future__ import annotations

from herald.models import Job, Message, Notification
from tests.engine.helpers import Rows, advance_pending_jobs, create_workflow, in_app, step, trigger, wait_for
from tests.support import RunningServer


def test_events_in_one_window_become_one_digest_message(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "daily-digest",
            [
                step("digest", "Digest", type="regular", amount=1, unit="hours"),
                in_app(
                    body="{{ steps.digest.eventCount }} updates, first {{ steps.digest.events[0].payload.n }}"
                ),
            ],
        )
    for n in range(3):
        trigger(server, "daily-digest", "reader", f"tx-digest-{n}", payload={"n": n})
    rows = Rows(server.settings)
    absorbed = wait_for(
        lambda: (
            (done := [x for x in rows.notifications() if x.status == "completed"]) and len(done) == 2 and done
        ),
        "the two later events absorbed into the digest",
    )
    assert {x.transaction_id for x in absorbed} == {"tx-digest-1", "tx-digest-2"}
    wait_for(
        lambda: [j for j in rows.jobs(Job.transaction_id == "tx-digest-0") if j.status == "pending"],
        "the digest window's resume job",
    )
    assert rows.messages() == []
    advance_pending_jobs(server.settings, "tx-digest-0")
    server.app.state.job_wakeup.notify()  # type: ignore[attr-defined]
    rows.settled("tx-digest-0")
    [message] = rows.messages(Message.channel == "in_app")
    assert message.content == "3 updates, first 0"
    assert message.transaction_id == "tx-digest-0"


def test_cancelling_the_event_that_opened_a_window_hands_the_window_to_the_next(
    server: RunningServer,
) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "handed-digest",
            [
                step("digest", "Digest", type="regular", amount=1, unit="hours"),
                in_app(
                    body="{{ steps.digest.eventCount }} updates, first {{ steps.digest.events[0].payload.n }}"
                ),
            ],
        )
    for n in range(3):
        trigger(server, "handed-digest", "reader", f"tx-hand-{n}", payload={"n": n})
    rows = Rows(server.settings)
    wait_for(
        lambda: len([x for x in rows.notifications() if x.status == "completed"]) == 2,
        "the two later events absorbed into the window opened by the first",
    )
    with server.client() as client:
        assert client.delete("/v1/events/trigger/tx-hand-0").json()["data"] is True
    [waiting] = [j for j in rows.jobs(Job.transaction_id == "tx-hand-1") if j.status == "pending"]
    assert waiting.args["resume"]
    advance_pending_jobs(server.settings, "tx-hand-1")
    server.app.state.job_wakeup.notify()  # type: ignore[attr-defined]
    rows.settled("tx-hand-1")
    [message] = rows.messages(Message.channel == "in_app")
    assert message.content == "2 updates, first 1"
    assert message.transaction_id == "tx-hand-1"
    statuses = {x.transaction_id: x.status for x in rows.notifications()}
    assert statuses == {"tx-hand-0": "canceled", "tx-hand-1": "completed", "tx-hand-2": "completed"}


def test_throttle_lets_the_threshold_through_and_halts_the_rest(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "throttled",
            [step("throttle", "Throttle", type="fixed", amount=1, unit="hours", threshold=2), in_app()],
        )
    for n in range(4):
        trigger(server, "throttled", "busy", f"tx-throttle-{n}")
    rows = Rows(server.settings)
    for n in range(4):
        rows.settled(f"tx-throttle-{n}")
    assert len(rows.messages(Message.channel == "in_app")) == 2
    assert {x.status for x in rows.notifications(Notification.transaction_id.like("tx-throttle-%"))} == {
        "completed"
    }
    throttled = [d for d in rows.details() if d.detail.startswith("Throttled")]
    assert len(throttled) == 2
