import pytest

from herald.engine.render import (
    RenderContext,
    RenderError,
    _compile,
    pluralize,
    referenced_variables,
    render_controls,
    render_template,
    to_sentence,
)

CONTEXT = RenderContext(
    payload={"order": {"id": 42, "items": [{"name": "Tea"}, {"name": "Cake"}, {"name": "Jam"}]}, "count": 3},
    subscriber={"subscriberId": "sub-1", "firstName": "Ada", "data": {"plan": "pro"}},
    steps={"digest-step": {"events": [{"payload": {"name": "Bo"}}, {"payload": {"name": "Cy"}}]}},
    actor={"firstName": "Grace"},
    tenant={"name": "Acme"},
)


def test_renders_novu_v2_variables() -> None:
    source = (
        "{{subscriber.firstName}} #{{ payload.order.id }} plan={{ subscriber.data.plan }} "
        "by {{ actor.firstName }} at {{ tenant.name }}"
    )
    assert render_template(source, CONTEXT) == "Ada #42 plan=pro by Grace at Acme"


def test_step_ids_with_dashes_and_loops() -> None:
    source = "{% for e in steps.digest-step.events %}{{ e.payload.name }};{% endfor %}"
    assert render_template(source, CONTEXT) == "Bo;Cy;"
    assert render_template("{{ steps.digest-step.events | size }}", CONTEXT) == "2"


def test_standard_and_novu_filters() -> None:
    assert render_template("{{ subscriber.firstName | upcase }}", CONTEXT) == "ADA"
    assert render_template("{{ payload.missing | default: 'friend' }}", CONTEXT) == "friend"
    assert render_template("{{ payload.count | pluralize: 'item' }}", CONTEXT) == "3 items"
    sentence = render_template("{{ payload.order.items | toSentence: 'name' }}", CONTEXT)
    assert sentence == "Tea, Cake, and 1 other"
    assert render_template("{{ steps.digest-step.events | digest: 'payload.name' }}", CONTEXT) == "Bo and Cy"
    assert render_template("{{ payload.order.items.first | json }}", CONTEXT) == '{"name": "Tea"}'


def test_to_sentence_and_pluralize_edges() -> None:
    assert to_sentence([]) == ""
    assert to_sentence(["A"]) == "A"
    assert to_sentence(["A", "B", "C", "D"]) == "A, B, and 2 others"
    assert to_sentence(["A", "B", "C", "D"], "", 1) == "A and 3 others"
    assert to_sentence(["A", "B", "C"], "", 5) == "A, B, and C"
    assert pluralize(1, "box") == "1 box"
    assert pluralize(2, "box") == "2 boxes"
    assert pluralize(2, "category") == "2 categories"
    assert pluralize(2, "person", "people") == "2 people"


def test_missing_variables_render_empty_as_in_novu() -> None:
    assert render_template("Hi {{ subscriber.lastName }}!", CONTEXT) == "Hi !"
    assert render_template("[{{ payload.a.b.c }}]", CONTEXT) == "[]"
    assert render_template("[{{ actor.firstName }}]", RenderContext()) == "[]"


def test_plain_strings_are_returned_unchanged() -> None:
    assert render_template("no markup at all", CONTEXT) == "no markup at all"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{% if payload.count %}open", "endif"),
        ("{{ payload.count | no_such_filter }}", "unknown filter"),
        ("{{ payload.count | divided_by: 0 }}", "divide by 0"),
        ("{{ payload.count ", "expected"),
    ],
)
def test_errors_become_render_errors_with_a_message(source: str, fragment: str) -> None:
    with pytest.raises(RenderError) as caught:
        render_template(source, CONTEXT)
    assert fragment in caught.value.message
    assert caught.value.field is None


def test_render_controls_renders_every_nested_string() -> None:
    controls = {
        "subject": "Order {{ payload.order.id }}",
        "body": "Hello {{ subscriber.firstName }}",
        "primaryAction": {
            "label": "Open {{ payload.order.id }}",
            "redirect": {"url": "/o/{{ payload.order.id }}"},
        },
        "data": {"tags": ["{{ tenant.name }}", 7, True, None]},
        "disableOutputSanitization": False,
    }
    assert render_controls(controls, CONTEXT) == {
        "subject": "Order 42",
        "body": "Hello Ada",
        "primaryAction": {"label": "Open 42", "redirect": {"url": "/o/42"}},
        "data": {"tags": ["Acme", 7, True, None]},
        "disableOutputSanitization": False,
    }


def test_render_controls_names_the_failing_field() -> None:
    with pytest.raises(RenderError) as caught:
        render_controls({"ok": "fine", "data": {"list": ["x", "{% for %}"]}}, CONTEXT)
    assert caught.value.field == "data.list.1"
    assert str(caught.value).startswith("data.list.1: ")


def test_loop_limits_stop_runaway_templates() -> None:
    with pytest.raises(RenderError):
        render_template("{% for i in (1..1000000) %}x{% endfor %}", CONTEXT)


def test_referenced_variables_lists_global_paths_only() -> None:
    loop = "{% for i in payload.items %}{{ i.name }}{% endfor %}"
    found = referenced_variables({"subject": "{{ payload.order.id }}", "body": [loop]})
    assert found == ["payload.order.id", "payload.items"]
    assert referenced_variables({"broken": "{% if %}", "plain": "text"}) == []


@pytest.mark.parametrize(
    "source",
    [
        "{{ payload.order.id }}",
        "a {{payload.count}} b {{ subscriber.firstName }} c",
        "{{ payload.order.items.size }} {{ payload.order.items.first.name }}",
        "{{ payload.order }}",
        "{{ payload.nope.deeper }}|{{ actor.nope }}",
        "{{ steps.digest-step.events.size }}",
        "{{ payload.flag }} {{ payload.none }} {{ payload.ratio }}",
        "{{- payload.count -}}",
    ],
)
def test_plain_output_shortcut_matches_liquid(source: str) -> None:
    context = RenderContext(
        payload={**CONTEXT.payload, "flag": True, "none": None, "ratio": 1.5},
        subscriber=CONTEXT.subscriber,
        steps=CONTEXT.steps,
        actor=CONTEXT.actor,
    )
    assert render_template(source, context) == _compile(source).render(**context.variables())
