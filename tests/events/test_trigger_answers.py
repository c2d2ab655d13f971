"""A trigger's answer (`TriggerAnswer`) is written as its DTO would be: the fast path sends
`as_json`, the endpoints the DTO (`as_dto`)."""

from __future__ import annotations

from typing import get_args

import orjson
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from herald.events.schemas import TriggerAnswer, TriggerEventResponseDto, TriggerStatus
from herald.kit.schemas import Envelope

_AS_THE_DTO = TypeAdapter(Envelope[list[TriggerEventResponseDto]])

answers = st.builds(
    TriggerAnswer,
    status=st.sampled_from(get_args(TriggerStatus)),
    transaction_id=st.none() | st.text(max_size=40),
    error=st.none() | st.lists(st.text(max_size=40), max_size=3),
    acknowledged=st.booleans(),
)


@given(st.lists(answers, max_size=5))
def test_the_json_of_answers_is_the_json_of_their_dtos(made: list[TriggerAnswer]) -> None:
    dtos = [answer.as_dto() for answer in made]
    expected = _AS_THE_DTO.dump_json(Envelope(data=dtos), exclude_none=True)
    assert orjson.dumps({"data": [answer.as_json() for answer in made]}) == expected
