"""Integration DTOs, named and shaped as Novu's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from herald.kit.schemas import NovuModel

Channel = Literal["in_app", "email", "sms", "chat", "push"]
# Provider credentials are small: the largest are service-account JSON documents of a few KB.
CredentialText = Annotated[str, Field(max_length=20_000)]
_IDENTIFIER = r"^[A-Za-z0-9._:-]+$"
_PROVIDER_ID = r"^[A-Za-z0-9._-]+$"


class CredentialsDto(NovuModel):
    """A provider's credentials. In answers, secret-like values are masked
    (`********` plus the last 4 characters of values of 12 characters or more); sender
    addresses and names, hosts, ports, regions, header names, paths and every boolean flag
    (such as `hmac`) are shown as they are."""

    api_key: CredentialText | None = None
    user: CredentialText | None = None
    secret_key: CredentialText | None = None
    domain: CredentialText | None = None
    password: CredentialText | None = None
    host: CredentialText | None = None
    port: CredentialText | None = None
    secure: StrictBool | None = None
    region: CredentialText | None = None
    account_sid: CredentialText | None = None
    message_profile_id: CredentialText | None = None
    token: CredentialText | None = None
    from_: CredentialText | None = Field(default=None, alias="from")
    sender_name: CredentialText | None = None
    project_name: CredentialText | None = None
    application_id: CredentialText | None = None
    client_id: CredentialText | None = None
    require_tls: StrictBool | None = None
    ignore_tls: StrictBool | None = None
    tls_options: dict[str, Any] | None = None
    base_url: CredentialText | None = None
    webhook_url: CredentialText | None = None
    redirect_url: CredentialText | None = None
    hmac: StrictBool | None = Field(
        default=None, description="In-app (`novu`) only: the Inbox must present the subscriber's HMAC hash."
    )
    service_account: CredentialText | None = None
    ip_pool_name: CredentialText | None = None
    api_key_request_header: CredentialText | None = None
    secret_key_request_header: CredentialText | None = None
    id_path: CredentialText | None = None
    date_path: CredentialText | None = None
    api_token: CredentialText | None = None
    authenticate_by_token: StrictBool | None = None
    authentication_token_key: CredentialText | None = None
    instance_id: CredentialText | None = None
    alert_uid: CredentialText | None = None
    title: CredentialText | None = None
    image_url: CredentialText | None = None
    state: CredentialText | None = None
    external_link: CredentialText | None = None
    channel_id: CredentialText | None = None
    phone_number_identification: CredentialText | None = None
    access_key: CredentialText | None = None
    app_sid: CredentialText | None = None
    sender_id: CredentialText | None = None
    tenant_id: CredentialText | None = None
    app_io_base_url: CredentialText | None = Field(default=None, alias="AppIOBaseUrl")
    signing_secret: CredentialText | None = None
    outbound_integration_id: CredentialText | None = None
    use_from_address_override: StrictBool | None = None
    from_address_override: CredentialText | None = None
    email_slug_prefix: CredentialText | None = None
    external_environment_id: CredentialText | None = None
    external_vault_id: CredentialText | None = None
    external_workspace_id: CredentialText | None = None

    def to_wire(self) -> dict[str, Any]:
        """The credentials given, by their wire names."""
        return self.model_dump(by_alias=True, exclude_none=True)


class FieldFilterPartDto(NovuModel):
    field: str = Field(max_length=500)
    value: str = Field(max_length=5_000)
    operator: Literal[
        "LARGER",
        "SMALLER",
        "LARGER_EQUAL",
        "SMALLER_EQUAL",
        "EQUAL",
        "NOT_EQUAL",
        "ALL_IN",
        "ANY_IN",
        "NOT_IN",
        "BETWEEN",
        "NOT_BETWEEN",
        "LIKE",
        "NOT_LIKE",
        "IN",
    ]
    on: Literal["subscriber", "payload"]


class StepFilterDto(NovuModel):
    is_negated: StrictBool
    type: Literal["BOOLEAN", "TEXT", "DATE", "NUMBER", "STATEMENT", "LIST", "MULTI_LIST", "GROUP"]
    value: Literal["AND", "OR"]
    children: list[FieldFilterPartDto] = Field(max_length=100)


class IntegrationResponseDto(NovuModel):
    id: str = Field(alias="_id", examples=["60d5ecb8b3b3a30015f3e1a1"])
    environment_id: str = Field(alias="_environmentId")
    organization_id: str = Field(alias="_organizationId")
    name: str = Field(examples=["SendGrid"])
    identifier: str = Field(examples=["sendgrid-Xb3dEf6h"])
    provider_id: str = Field(examples=["sendgrid"])
    channel: Channel
    kind: Literal["delivery"] = "delivery"
    credentials: CredentialsDto = Field(description="Secret-like values are masked; see CredentialsDto.")
    active: bool
    deleted: bool = Field(default=False, description="Deleted integrations are removed, never listed.")
    primary: bool = Field(
        description="The integration used for its channel when no other rule picks one (email and sms)."
    )
    conditions: list[StepFilterDto]
    created_at: str
    updated_at: str


class CreateIntegrationRequestDto(NovuModel):
    provider_id: str = Field(min_length=1, max_length=64, pattern=_PROVIDER_ID, examples=["sendgrid"])
    channel: Channel
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Defaults from providerId."
    )
    identifier: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=_IDENTIFIER,
        description="Unique in the environment; generated from the name when absent.",
    )
    environment_id: str | None = Field(
        default=None, alias="_environmentId", description="If given, must be the secret key's environment."
    )
    kind: Literal["delivery"] | None = Field(default=None, description="Only delivery integrations exist.")
    credentials: CredentialsDto | None = None
    active: StrictBool = Field(default=False, description="Inactive unless set, as in Novu.")
    check: StrictBool | None = Field(
        default=None, description="Accepted and ignored: no test delivery is made."
    )
    conditions: list[StepFilterDto] | None = Field(default=None, max_length=100)


class UpdateIntegrationRequestDto(NovuModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    identifier: str | None = Field(default=None, min_length=1, max_length=100, pattern=_IDENTIFIER)
    environment_id: str | None = Field(
        default=None, alias="_environmentId", description="If given, must be the secret key's environment."
    )
    active: StrictBool | None = None
    credentials: CredentialsDto | None = Field(
        default=None,
        description="Replaces the stored credentials. A masked value sent back unchanged keeps the "
        "stored secret, so an integration read and written back loses nothing.",
    )
    check: StrictBool | None = Field(
        default=None, description="Accepted and ignored: no test delivery is made."
    )
    conditions: list[StepFilterDto] | None = Field(default=None, max_length=100)
