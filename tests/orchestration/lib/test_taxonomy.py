from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestration.lib.config import DEFAULT_TAXONOMY
from orchestration.lib.taxonomy import Taxonomy, TaxonomyError

EXPECTED_KEYS = {
    "dues_pricing", "renewal_billing", "event_registration", "event_logistics", "event_content",
    "event_cancellation", "website_login", "website_usability", "communications",
    "member_benefits", "education_certification", "community_forum", "customer_service",
    "advocacy_policy", "publications", "chapter_activities", "career_center", "data_privacy",
}  # fmt: skip


def _minimal(**overrides) -> dict:
    topic = {
        "key": "dues_pricing",
        "label": "Dues",
        "description": "Membership dues.",
        "examples": ["dues are too high"],
    }
    return {"version": "1", "topics": [{**topic, **overrides}]}


def test_shipped_taxonomy_loads_with_the_agreed_keys() -> None:
    tax = Taxonomy.load(DEFAULT_TAXONOMY)
    assert set(tax.keys) == EXPECTED_KEYS
    assert tax.version.startswith(tax.declared_version + "+")
    for topic in tax.topics:
        assert 4 <= len(topic.examples) <= 8, topic.key
        assert topic.label and topic.description
    assert "dues_pricing" in tax and tax["dues_pricing"].label == "Dues and pricing"


def test_version_changes_with_content_even_without_a_bump(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_TAXONOMY.read_text())
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    before = Taxonomy.load(path).version
    path.write_text("# a comment only\n" + yaml.safe_dump(data))
    assert Taxonomy.load(path).version == before  # formatting does not matter
    data["topics"][0]["examples"].append("the new dues are unaffordable")
    path.write_text(yaml.safe_dump(data))
    after = Taxonomy.load(path)
    assert after.declared_version == data["version"]
    assert after.version != before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": "1", "topics": [_minimal()["topics"][0]] * 2}, "duplicate topic keys"),
        (_minimal(key="DuesPricing"), "topics.0.key"),
        (_minimal(key="dues-pricing"), "topics.0.key"),
        (_minimal(examples=[]), "examples"),
        (_minimal(colour="red"), "colour"),
        ({"topics": _minimal()["topics"]}, "version"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_invalid_taxonomies_are_clear_errors(data: object, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        Taxonomy.from_dict(data)


def test_errors_do_not_echo_file_content() -> None:
    secret = "<PERSON_1> wrote this example"
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_dict(_minimal(key=secret))
    assert secret not in str(info.value)


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        Taxonomy.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        Taxonomy.load(bad)


def test_numeric_version_is_accepted() -> None:
    data = _minimal()
    data["version"] = 2
    assert Taxonomy.from_dict(data).declared_version == "2"
