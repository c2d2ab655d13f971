"""A workflow's first in-app step runs in the trigger's own transaction: its message is stored
when the trigger is answered, without a worker. What cannot be done there (a template that
fails to render) is left to the worker, which records the failure as for any other job."""

from __future__ import annotations

from herald.models import ExecutionDetail, Job, Message
from herald.realtime.publisher import NullPublisher
from tests.engine.helpers import Rows, create_workflow, in_app, run_worker, trigger
from tests.support import RunningServer


def test_the_first_in_app_message_is_stored_with_the_trigger(api_only: RunningServer) -> None:
    with api_only.client() as client:
        create_workflow(
            client, "welcome", [in_app("First", body="Hi {{ payload.name }}"), in_app("Second", body="2")]
        )
    trigger(api_only, "welcome", "ada", "tx-at-once", payload={"name": "Ada"})
    rows = Rows(api_only.settings)  # no worker has run

    [message] = rows.messages()
    assert (message.content, message.step_id, message.transaction_id) == ("Hi Ada", "first", "tx-at-once")
    first, second = sorted(rows.jobs(), key=lambda job: job.args["step"])
    assert (first.status, first.attempts, first.id) == ("completed", 1, message.job_id)
    assert first.finished_at is not None
    assert (second.status, second.attempts) == ("pending", 0)
    assert second.args["steps"] == {"first": {"messageId": message.id}}
    [line] = rows.details()
    assert (line.job_id, line.status, line.raw) == (first.id, "Success", {"messageId": message.id})
    [notification] = rows.notifications()
    assert notification.status == "pending"

    run_worker(api_only.settings, NullPublisher())
    assert [m.content for m in rows.messages(Message.step_id == "second")] == ["2"]
    assert [n.status for n in rows.notifications()] == ["completed"]


def test_a_first_step_that_fails_to_render_is_left_to_the_worker(api_only: RunningServer) -> None:
    with api_only.client() as client:
        create_workflow(client, "divide", [in_app(body="{{ 10 | divided_by: payload.d }}")])
    trigger(api_only, "divide", "bob", "tx-bad", payload={"d": 0})
    trigger(api_only, "divide", "bob", "tx-good", payload={"d": 5})
    rows = Rows(api_only.settings)

    assert [m.content for m in rows.messages()] == ["2"]
    [bad] = rows.jobs(Job.transaction_id == "tx-bad")
    assert (bad.status, bad.attempts) == ("pending", 0)

    run_worker(api_only.settings, NullPublisher())
    [bad] = rows.jobs(Job.transaction_id == "tx-bad")
    assert (bad.status, bad.attempts) == ("failed", 1)
    assert "divided_by: can't divide by 0" in (bad.last_error or "")
    assert {n.transaction_id: n.status for n in rows.notifications()} == {
        "tx-bad": "failed",
        "tx-good": "completed",
    }


def test_a_first_step_turned_off_by_preferences_is_skipped_at_once(api_only: RunningServer) -> None:
    with api_only.client() as client:
        create_workflow(client, "quiet", [in_app(body="never shown")])
        client.post("/v2/subscribers", json={"subscriberId": "cal"})
        response = client.patch(
            "/v2/subscribers/cal/preferences", json={"channels": {"in_app": False}, "workflowId": "quiet"}
        )
        assert response.status_code == 200, response.text
    trigger(api_only, "quiet", "cal", "tx-quiet")
    rows = Rows(api_only.settings)

    assert rows.messages() == []
    assert [(job.status, job.attempts) for job in rows.jobs()] == [("completed", 1)]
    assert [n.status for n in rows.notifications()] == ["completed"]
    [line] = rows.details(ExecutionDetail.status == "Success")
    assert line.detail == "Step skipped: the subscriber turned in_app off in their preferences"
