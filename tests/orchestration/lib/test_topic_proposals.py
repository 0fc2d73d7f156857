"""Proposed topics group into candidates; a promoted candidate joins the taxonomy and changes
its version, so labelling runs after it use (and cache under) the new taxonomy."""

import sqlite3

import pytest

from orchestration.defs.resources import EnrichmentResource
from orchestration.lib.app_state import AppState
from orchestration.lib.config import DEFAULT_TAXONOMY, Paths
from orchestration.lib.enrichment.proposals import Proposal, cluster_proposals
from orchestration.lib.taxonomy import Taxonomy, TaxonomyError

TAXONOMY = Taxonomy.load(DEFAULT_TAXONOMY)
PROPOSALS = [
    Proposal("proposed:venue_parking_costs", "Venue parking costs", 3, ("parking fees were $40",)),
    Proposal("proposed:parking_at_the_venue", "Parking at the venue", 5, ("no parking nearby",)),
    Proposal("proposed:conference_parking", "Conference parking", 2),
    Proposal("proposed:mentorship_program", "Mentorship program", 4, ("a mentoring scheme",)),
    Proposal("proposed:mentoring_for_students", "Mentoring for students", 2),
    Proposal("proposed:dues_too_high", "Dues too high", 1, ("the dues went up again",)),
    Proposal("proposed:x", "!!!", 1),
]


def test_paraphrases_group_into_one_candidate_named_by_the_biggest_proposal():
    candidates = cluster_proposals(PROPOSALS, TAXONOMY)
    groups = {c.key: sorted(p.topic_key for p in c.proposals) for c in candidates}
    assert groups == {
        "parking_at_the_venue": [
            "proposed:conference_parking",
            "proposed:parking_at_the_venue",
            "proposed:venue_parking_costs",
        ],
        "mentorship_program": ["proposed:mentoring_for_students", "proposed:mentorship_program"],
        "dues_too_high": ["proposed:dues_too_high"],
        "x": ["proposed:x"],
    }
    first = candidates[0]
    assert (first.label, first.items) == ("Parking at the venue", 10)  # most items first
    assert first.evidence == ("no parking nearby", "parking fees were $40")


def test_each_candidate_names_the_nearest_existing_topic():
    by_key = {c.key: c for c in cluster_proposals(PROPOSALS, TAXONOMY)}
    assert by_key["dues_too_high"].closest_topic == "dues_pricing"  # an old topic, new words
    assert by_key["parking_at_the_venue"].closest_topic == "event_logistics"
    assert by_key["x"].closest_topic is None and by_key["x"].closest_similarity == 0


def test_a_stricter_threshold_keeps_proposals_apart():
    strict = cluster_proposals(PROPOSALS, TAXONOMY, threshold=0.99)
    assert len(strict) == len(PROPOSALS)
    assert cluster_proposals([], TAXONOMY) == []


def test_a_promoted_topic_joins_the_taxonomy_the_pipeline_uses(tmp_path):
    resource = EnrichmentResource(pulse_home=str(tmp_path), taxonomy_file=str(DEFAULT_TAXONOMY))
    before = resource.taxonomy()
    assert before.version == TAXONOMY.version  # no app state yet: the file alone
    state = AppState(Paths(tmp_path).app_state)
    state.promote_topic(
        key="venue_parking",
        label="Venue parking",
        description="Parking at or near event venues: cost, distance, availability.",
        examples=["Parking at the venue", "Venue parking costs"],
        proposals=["proposed:parking_at_the_venue", "proposed:venue_parking_costs"],
        promoted_by="director",
    )
    after = resource.taxonomy()
    assert "venue_parking" in after and after["venue_parking"].label == "Venue parking"
    assert len(after) == len(before) + 1
    assert after.version != before.version  # the label cache keys change with it
    assert state.promoted_proposals() == {
        "proposed:parking_at_the_venue",
        "proposed:venue_parking_costs",
    }


def test_a_promotion_may_not_reuse_a_key(tmp_path):
    state = AppState(tmp_path / "app_state.sqlite")
    entry = dict(label="Parking", description="d", examples=["p"], proposals=[], promoted_by="a")
    state.promote_topic(key="parking", **entry)
    with pytest.raises(sqlite3.IntegrityError):
        state.promote_topic(key="parking", **entry)
    # a key the taxonomy file already has fails validation when the taxonomy is built
    with pytest.raises(TaxonomyError, match="duplicate topic keys"):
        TAXONOMY.with_topics([{"key": "dues_pricing", "label": "x", "description": "y",
                               "examples": ["z"]}])  # fmt: skip
