"""The Topics page lists the model's proposed topics as candidates; leadership may promote one
into the taxonomy (redacted, validated, recorded with who and when); others may not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from orchestration.defs.resources import EnrichmentResource
from orchestration.lib.app_state import AppState
from orchestration.lib.config import DEFAULT_TAXONOMY
from tests.app.marts_fixture import PROPOSED_TOPIC

OpenApp = Callable[..., AppTest]
QUERY = {"period": "all"}


def _candidates(at: AppTest) -> list[str]:
    [table] = [d for d in at.dataframe if "Candidate topic" in d.value.columns]
    return list(table.value["Candidate topic"])


def _promote(at: AppTest, **fields: str) -> AppTest:
    for label, value in fields.items():
        widget = next(
            w for w in [*at.text_input, *at.text_area] if w.label.lower().startswith(label)
        )
        widget.set_value(value)
    [button] = [b for b in at.button if b.label == "Promote to the taxonomy"]
    return button.click().run()


def _taxonomy_keys(home: Path) -> set[str]:
    resource = EnrichmentResource(pulse_home=str(home), taxonomy_file=str(DEFAULT_TAXONOMY))
    return set(resource.taxonomy().keys)


def test_leadership_promotes_a_candidate_into_the_taxonomy(open_app: OpenApp, pulse_home: Path):
    at = open_app("lead", "topics", query=QUERY)
    assert _candidates(at) == [PROPOSED_TOPIC[1]]
    before = _taxonomy_keys(pulse_home)

    at = _promote(
        at,
        key="venue_parking",
        description="Parking at or near event venues, called by Jane Smith at 555-201-3344.",
    )
    assert not at.exception and not at.error
    assert "Added 'Parking at the venue' to the taxonomy" in at.success[0].value

    assert _taxonomy_keys(pulse_home) == before | {"venue_parking"}
    [promoted] = AppState(pulse_home / "app_state.sqlite").promoted_topics()
    assert promoted["examples"] == [PROPOSED_TOPIC[1]]
    # what staff type becomes part of every prompt: personal data is redacted first
    assert "555-201-3344" not in promoted["description"]
    assert "<PHONE_NUMBER" in promoted["description"]

    at = open_app("lead", "topics", query=QUERY)  # a promoted candidate leaves the list
    assert not [d for d in at.dataframe if "Candidate topic" in d.value.columns]
    assert any("No new topics proposed" in i.value for i in at.info)


def test_a_bad_key_or_a_key_in_use_is_refused_with_nothing_stored(
    open_app: OpenApp, pulse_home: Path
):
    at = open_app("lead", "topics", query=QUERY)
    at = _promote(at, key="Venue Parking!")
    assert "is not a topic key" in at.error[0].value
    at = _promote(at, key="dues_pricing")
    assert "duplicate topic keys" in at.error[0].value
    assert AppState(pulse_home / "app_state.sqlite").promoted_topics() == []


def test_only_leadership_sees_the_promote_form(open_app: OpenApp):
    reviewer = open_app("reviewer", "topics", query=QUERY)
    assert _candidates(reviewer) == [PROPOSED_TOPIC[1]]
    assert not [b for b in reviewer.button if b.label == "Promote to the taxonomy"]
    assert any("Leadership can promote" in c.value for c in reviewer.caption)

    viewer = open_app("viewer", "topics", query=QUERY)  # aggregates only: no evidence quotes
    assert not viewer.exception
    assert not [d for d in viewer.dataframe if "Candidate topic" in d.value.columns]
