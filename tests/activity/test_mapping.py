"""How stored engine rows map onto the closed enumerations the clients parse."""

from __future__ import annotations

from datetime import UTC, datetime

from herald.activity.service import _detail, _job, _job_step, _notification
from herald.models import ExecutionDetail, Job, Notification, Subscriber, WorkflowStep

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = [
    WorkflowStep(id="s0", step_id="inbox", name="Inbox", type="in_app", position=0),
    WorkflowStep(id="s1", step_id="wait", name="Wait", type="delay", position=1),
]


def job(args: dict[str, object], status: str = "pending") -> Job:
    return Job(id="j1", status=status, args=args, updated_at=MOMENT, last_error=None)


def detail(status: str, provider: str | None = None, job_id: str | None = "j1") -> ExecutionDetail:
    return ExecutionDetail(
        id="d1", job_id=job_id, status=status, detail="x", provider_id=provider, raw=None, created_at=MOMENT
    )


def test_a_job_names_its_step_by_snapshot_id_or_index() -> None:
    snapshot = {"id": "x9", "step_id": "custom-one", "name": "Hook", "type": "custom"}
    assert _job_step({"step": snapshot}, STEPS) == snapshot
    assert _job_step({"stepId": "wait"}, STEPS) == {
        "id": "s1",
        "step_id": "wait",
        "name": "Wait",
        "type": "delay",
    }
    assert _job_step({"step_index": 0}, STEPS)["step_id"] == "inbox"
    assert _job_step({"stepIndex": 7}, STEPS) == {"id": None, "step_id": None, "name": None, "type": None}


def test_unknown_types_providers_and_statuses_never_reach_the_wire() -> None:
    unnamed = _job(job({}), [detail("running", "herald-dev")], STEPS)
    assert (unnamed.type, unnamed.provider_id, unnamed.step.id) == ("trigger", "novu", "j1")
    assert unnamed.execution_details[0].status == "Warning"
    assert unnamed.execution_details[0].provider_id is None
    email = _job(job({"step": {"type": "email"}}, "failed"), [], STEPS)
    assert (email.type, email.provider_id, email.status) == ("email", "novu-email", "failed")
    sent = _job(job({"step_id": "inbox"}), [detail("success", "novu")], STEPS)
    assert (sent.type, sent.provider_id, sent.step.name) == ("in_app", "novu", "Inbox")
    statuses = ["Success", "FAILED", "error", "queued", "read_confirmation", "Pending"]
    assert [_detail(detail(s)).status for s in statuses] == [
        "Success",
        "Failed",
        "Failed",
        "Queued",
        "ReadConfirmation",
        "Pending",
    ]


def test_details_of_no_job_are_shown_under_the_trigger() -> None:
    notification = Notification(
        id="n1",
        environment_id="e",
        organization_id="o",
        transaction_id="t",
        workflow_id=None,
        workflow_identifier="w",
        workflow_name="W",
        status="processing",
        channels=["in_app", "fax"],
        tags=[],
        severity="urgent",
        critical=False,
        payload={},
        recipient=None,
        created_at=MOMENT,
        updated_at=MOMENT,
    )
    subscriber = Subscriber(id="sub", subscriber_id="ada")
    response = _notification(
        notification, subscriber, [job({"step_id": "inbox"})], [detail("Success", job_id=None)], STEPS
    )
    assert [(j.id, j.type) for j in response.jobs] == [("n1", "trigger"), ("j1", "in_app")]
    assert response.jobs[0].execution_details[0].id == "d1"
    assert response.jobs[1].execution_details == []
    assert (response.channels, response.severity) == (["in_app"], "none")
