"""In-app steps run in batches: one failing job among good ones, preferences and critical
workflows decided per job, other step types handed back to run alone."""

from __future__ import annotations

from collections import Counter

from herald.models import ExecutionDetail, Job, Message, Notification
from herald.realtime.publisher import NullPublisher
from tests.engine.helpers import AnnouncedMessages, Rows, create_workflow, in_app, run_worker, step
from tests.support import RunningServer


def test_a_failing_job_in_a_batch_fails_alone_and_the_others_deliver_exactly_once(
    queued_api: RunningServer,
) -> None:
    with queued_api.client() as client:
        create_workflow(
            client,
            "divide",
            [in_app("First", body="{{ 10 | divided_by: payload.d }}"), in_app("Second", body="after")],
        )
        client.post("/v2/subscribers", json={"subscriberId": "quiet"})
        response = client.patch(
            "/v2/subscribers/quiet/preferences", json={"channels": {"in_app": False}, "workflowId": "divide"}
        )
        assert response.status_code == 200, response.text
        recipients = {"tx-0": "s0", "tx-1": "s1", "tx-bad": "s2", "tx-3": "s3", "tx-quiet": "quiet"}
        events = [
            {"name": "divide", "to": to, "transactionId": tx, "payload": {"d": 0 if tx == "tx-bad" else 2}}
            for tx, to in recipients.items()
        ]
        assert client.post("/v1/events/trigger/bulk", json={"events": events}).status_code == 201
    publisher = AnnouncedMessages()
    batches = run_worker(queued_api.settings, publisher)
    rows = Rows(queued_api.settings)

    first, second = batches
    assert len(first.jobs) == 5 and first.result.deferred == []
    [bad_job_id] = first.result.failed
    assert "Liquid error in body" in str(first.result.failed[bad_job_id])
    assert len(second.jobs) == 4 and second.result.failed == {} and second.result.deferred == []

    [bad_job] = rows.jobs(Job.transaction_id == "tx-bad")
    assert (bad_job.id, bad_job.status, bad_job.attempts) == (bad_job_id, "failed", 1)
    assert "divided_by: can't divide by 0" in (bad_job.last_error or "")
    statuses = {n.transaction_id: n.status for n in rows.notifications()}
    assert statuses == {tx: ("failed" if tx == "tx-bad" else "completed") for tx in recipients}
    contents = Counter((m.transaction_id, m.content) for m in rows.messages())
    assert contents == Counter({(tx, text): 1 for tx in ("tx-0", "tx-1", "tx-3") for text in ("5", "after")})
    assert sorted(publisher.messages) == sorted(m.id for m in rows.messages())
    second_step_outputs = {
        job.transaction_id: job.args.get("steps") for job in rows.jobs(Job.args["step"].as_integer() == 1)
    }
    first_messages = {m.transaction_id: m.id for m in rows.messages(Message.step_id == "first")}
    assert second_step_outputs["tx-0"] == {"first": {"messageId": first_messages["tx-0"]}}
    assert second_step_outputs["tx-quiet"] is None

    details = rows.details()
    assert all(count == 1 for count in Counter(d.job_id for d in details).values())
    [quiet] = rows.notifications(Notification.transaction_id == "tx-quiet")
    quiet_lines = [d.detail for d in rows.details(ExecutionDetail.notification_id == quiet.id)]
    assert quiet_lines == ["Step skipped: the subscriber turned in_app off in their preferences"] * 2
    [bad] = rows.notifications(Notification.transaction_id == "tx-bad")
    [bad_line] = rows.details(ExecutionDetail.notification_id == bad.id)
    assert (bad_line.status, bad_line.raw) == ("Failed", {"reason": "job_failed"})


def test_other_step_types_are_handed_back_and_run_alone(api_only: RunningServer) -> None:
    with api_only.client() as client:
        create_workflow(
            client, "mixed", [step("custom", "Hook", anything=1), in_app(body="Hi {{ payload.n }}")]
        )
        events = [
            {"name": "mixed", "to": f"m{n}", "transactionId": f"tx-m{n}", "payload": {"n": n}}
            for n in range(3)
        ]
        assert client.post("/v1/events/trigger/bulk", json={"events": events}).status_code == 201
    batches = run_worker(api_only.settings, NullPublisher())
    rows = Rows(api_only.settings)

    first, second = batches
    assert len(first.result.deferred) == 3 and first.result.failed == {}
    assert second.result.deferred == [] and len(second.jobs) == 3
    assert sorted(m.content for m in rows.messages()) == ["Hi 0", "Hi 1", "Hi 2"]
    assert {job.status for job in rows.jobs()} == {"completed"}
    assert {job.attempts for job in rows.jobs()} == {1}
