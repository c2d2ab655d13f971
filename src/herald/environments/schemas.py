"""Environment DTOs, named and shaped as Novu's."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from herald.kit.schemas import NovuModel

EnvironmentType = Literal["dev", "prod"]


class ApiKeyDto(NovuModel):
    key: str = Field(description="The secret key; shown when it is created or regenerated.")
    user_id: str = Field(alias="_userId", description="Herald has no users: the organization id.")


class EnvironmentResponseDto(NovuModel):
    id: str = Field(alias="_id", examples=["60d5ecb8b3b3a30015f3e1a1"])
    name: str = Field(examples=["Staging"])
    organization_id: str = Field(alias="_organizationId", examples=["60d5ecb8b3b3a30015f3e1a2"])
    identifier: str = Field(description="The public application identifier", examples=["Ab3dEf6hIj9k"])
    type: EnvironmentType | None = None
    parent_id: str | None = Field(default=None, alias="_parentId")
    slug: str
    color: str | None = None
    created_at: str
    updated_at: str
    api_keys: list[ApiKeyDto] | None = Field(
        default=None, description="Only in the answers that create or regenerate a key."
    )


_COLOR = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
_OBJECT_ID = r"^[0-9a-f]{24}$"


class CreateEnvironmentRequestDto(NovuModel):
    name: str = Field(min_length=1, max_length=100, examples=["Staging"])
    parent_id: str | None = Field(default=None, pattern=_OBJECT_ID, description="Defaults to Development.")
    color: str | None = Field(default=None, pattern=_COLOR, examples=["#3498db"])


class UpdateEnvironmentRequestDto(NovuModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    identifier: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{4,64}$")
    parent_id: str | None = Field(default=None, pattern=_OBJECT_ID)
    color: str | None = Field(default=None, pattern=_COLOR)


class DeleteEnvironmentResponseDto(NovuModel):
    acknowledged: bool
    status: Literal["deleted"]
