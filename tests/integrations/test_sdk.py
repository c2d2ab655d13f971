"""Every integrations endpoint driven through novu-py, and Novu's primary rules."""

from novu_py import Novu, models

from tests.integrations.helpers import MAILGUN_KEY, SENDGRID_KEY, email_integration
from tests.support import RunningServer


def _novu(server: RunningServer, environment: str = "Development") -> Novu:
    return Novu(secret_key=server.keys[environment], server_url=server.url)


def _primaries(novu: Novu, channel: str) -> list[str]:
    return [i.identifier for i in novu.integrations.list().result if i.channel == channel and i.primary]


def test_create_list_update_set_primary_delete(server: RunningServer) -> None:
    novu = _novu(server)
    sendgrid = novu.integrations.create(create_integration_request_dto=email_integration()).result
    assert sendgrid.id is not None
    assert (sendgrid.provider_id, sendgrid.channel, sendgrid.name) == ("sendgrid", "email", "Sendgrid")
    assert sendgrid.identifier.startswith("sendgrid-")
    assert sendgrid.active is True and sendgrid.primary is True  # first active email integration
    assert sendgrid.environment_id == server.environment_ids["Development"]
    assert sendgrid.credentials is not None
    assert sendgrid.credentials.api_key == "********" + SENDGRID_KEY[-4:]
    assert sendgrid.credentials.from_ == "no-reply@example.com"
    assert sendgrid.credentials.sender_name == "Example"

    mailgun = novu.integrations.create(
        create_integration_request_dto={
            "providerId": "mailgun",
            "channel": "email",
            "name": "Mailgun EU",
            "identifier": "mailgun-eu",
            "credentials": {"apiKey": MAILGUN_KEY, "domain": "mg.example.com", "region": "eu"},
            "active": True,
        }
    ).result
    assert mailgun.id is not None
    assert (mailgun.identifier, mailgun.name, mailgun.primary) == ("mailgun-eu", "Mailgun EU", False)
    listed = novu.integrations.list().result
    assert [i.provider_id for i in listed] == ["novu", "sendgrid", "mailgun"]

    promoted = novu.integrations.set_as_primary(integration_id=mailgun.id).result
    assert promoted.primary is True and promoted.active is True
    assert _primaries(novu, "email") == ["mailgun-eu"]

    renamed = novu.integrations.update(
        integration_id=sendgrid.id,
        update_integration_request_dto={"name": "SendGrid US", "identifier": "sendgrid-us", "active": False},
    ).result
    assert (renamed.name, renamed.identifier, renamed.active, renamed.primary) == (
        "SendGrid US",
        "sendgrid-us",
        False,
        False,
    )
    assert [i.identifier for i in novu.integrations.list_active().result if i.channel == "email"] == [
        "mailgun-eu"
    ]

    remaining = novu.integrations.delete(integration_id=mailgun.id).result
    assert [i.identifier for i in remaining if i.channel == "email"] == ["sendgrid-us"]
    assert _primaries(novu, "email") == []  # the deleted primary promotes no other


def test_primary_rules(server: RunningServer) -> None:
    novu = _novu(server)
    create = novu.integrations.create
    inactive = create(create_integration_request_dto=email_integration(active=False)).result
    assert inactive.id is not None and inactive.primary is False
    sms = create(create_integration_request_dto={"providerId": "twilio", "channel": "sms", "active": True})
    assert sms.result.primary is True  # primary is per channel
    push = create(create_integration_request_dto={"providerId": "fcm", "channel": "push", "active": True})
    assert push.result.primary is False  # only email and sms have a primary, as in Novu

    activated = novu.integrations.update(
        integration_id=inactive.id, update_integration_request_dto={"active": True}
    ).result
    assert activated.primary is True  # activated while the channel has no primary
    second = create(create_integration_request_dto=email_integration(identifier="second")).result
    assert second.id is not None and second.primary is False

    condition = {
        "isNegated": False,
        "type": "GROUP",
        "value": "AND",
        "children": [{"field": "tenant", "value": "acme", "operator": "EQUAL", "on": "payload"}],
    }
    conditioned = novu.integrations.update(
        integration_id=inactive.id, update_integration_request_dto={"conditions": [condition]}
    ).result
    assert conditioned.primary is False  # conditions and primary exclude each other
    assert conditioned.conditions is not None and conditioned.conditions[0].children[0].field == "tenant"
    assert _primaries(novu, "email") == []

    primary = novu.integrations.set_as_primary(integration_id=inactive.id).result
    assert primary.primary is True and primary.conditions == []
    deactivated = novu.integrations.update(
        integration_id=inactive.id, update_integration_request_dto={"active": False}
    ).result
    assert deactivated.primary is False
    assert _primaries(novu, "email") == []  # nothing promoted silently

    again = novu.integrations.set_as_primary(integration_id=second.id).result
    assert again.primary is True
    assert novu.integrations.set_as_primary(integration_id=second.id).result.primary is True


def test_set_primary_refuses_channels_without_primary(server: RunningServer) -> None:
    novu = _novu(server)
    [inbox] = novu.integrations.list().result
    assert inbox.id is not None
    try:
        novu.integrations.set_as_primary(integration_id=inbox.id)
    except models.NovuError as error:
        assert error.status_code == 400
        assert error.raw_response.json()["message"] == "Channel in_app does not support primary"
    else:
        raise AssertionError("set-primary on an in-app integration must fail")


def test_unknown_ids_give_404_through_the_sdk(server: RunningServer) -> None:
    novu = _novu(server)
    missing = "0123456789abcdef01234567"
    calls = (
        lambda: novu.integrations.update(
            integration_id=missing, update_integration_request_dto={"name": "x"}
        ),
        lambda: novu.integrations.delete(integration_id=missing),
        lambda: novu.integrations.set_as_primary(integration_id=missing),
    )
    for call in calls:
        try:
            call()
        except models.NovuError as error:
            assert error.status_code == 404
            assert error.raw_response.json()["message"] == f"Integration with id {missing} not found"
        else:
            raise AssertionError("an unknown integration id must give 404")
