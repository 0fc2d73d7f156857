"""The offline PII redactor: entities, numbering, known people, gazetteer context, allow-list,
placeholder injection, counts, bad input and batch equivalence. No network, no /work/shared."""

from __future__ import annotations

import hashlib
import pickle
import re
from datetime import date
from pathlib import Path

import pytest

from connectors.records import MemberRecord
from orchestration.lib.redaction import (
    KnownPeople,
    Redaction,
    Redactor,
    load_allow_list,
    redact_in_processes,
)

SECRET = b"test-secret-0123456789abcdef"
REPO = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"<([A-Z_]+)_(\d+)>")


@pytest.fixture(scope="module")
def known() -> KnownPeople:
    people = KnownPeople(SECRET)
    people.add(
        MemberRecord(
            member_id="104233",
            tier="Gold",
            chapter="Northeast",
            status="Active",
            join_date=date(2015, 1, 1),
            paid_through=date(2026, 1, 1),
            updated_at=None,
            first_name="Dana",
            last_name="Whitfield",
            emails=("dwhitfield@example.org",),
        )
    )
    people.add_names("Oluwaseun", "Adeyemi-Hart", ["seun.adeyemi@example.com"])
    people.add_names("Will", "Grant", [])  # a member whose names are ordinary words
    return people


@pytest.fixture(scope="module")
def redactor(known: KnownPeople) -> Redactor:
    return Redactor.build(
        known_people=known,
        allow_list=["Northeast Chapter", "Annual Conference", "Leadership Academy", "CAE", "CPE"],
    )


def red(redactor: Redactor, text: str) -> str:
    return redactor.redact(text).text


# -- each entity type -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "secret", "entity"),
    [
        ("write to jane.doe+pulse@mail.example.com please", "jane.doe", "EMAIL_ADDRESS"),
        ("write to jane (at) example (dot) com please", "example", "EMAIL_ADDRESS"),
        ("call (555) 123-4567 today", "123-4567", "PHONE_NUMBER"),
        ("call 555.123.4567 today", "123.4567", "PHONE_NUMBER"),
        ("call +1 555 123 4567 today", "123 4567", "PHONE_NUMBER"),
        ("call 555-123-4567 ext 12 today", "ext 12", "PHONE_NUMBER"),
        ("London office +44 20 7946 0958, thanks", "7946", "PHONE_NUMBER"),
        ("Paris: +33 1 42 68 53 00.", "42 68", "PHONE_NUMBER"),
        ("card 4111 1111 1111 1111 was charged twice", "1111 1111", "CREDIT_CARD"),
        ("my SSN is 219-09-9999", "219-09", "US_SSN"),
        ("login from 192.168.10.24 failed", "192.168", "IP_ADDRESS"),
        ("or from 2001:db8::8a2e:370:7334 too", "8a2e", "IP_ADDRESS"),
        ("see linkedin.com/in/jane-doe-123 for my CV", "jane-doe", "URL"),
        ("my page https://www.facebook.com/jane.doe.77", "jane.doe", "URL"),
        ("renew via https://portal.example.org/renew?email=a%40b.com", "renew?email", "URL"),
        ("I moved to 1234 Elm Street, Suite 5 last year", "Elm Street", "STREET_ADDRESS"),
        ("ship it to 77 W. Oak Avenue, Springfield, IL 62704.", "Springfield", "STREET_ADDRESS"),
        ("DOB: 04/12/1978 on my record", "04/12/1978", "DATE_OF_BIRTH"),
        ("I was born on March 3, 1981 in Ohio", "1981", "DATE_OF_BIRTH"),
        ("Member #104233 here", "104233", "MEMBER_ID"),
        ("my ID 00482913 does not work", "00482913", "MEMBER_ID"),
        ("member id: 104233 renewed", "104233", "MEMBER_ID"),
    ],
)
def test_each_entity_type_is_found_and_replaced(
    redactor: Redactor, text: str, secret: str, entity: str
) -> None:
    result = redactor.redact(text)
    assert secret not in result.text
    assert f"<{entity}_1>" in result.text
    assert result.entity_counts.get(entity, 0) >= 1


def test_generic_urls_and_ordinary_numbers_are_kept(redactor: Redactor) -> None:
    text = "Agenda at https://www.example-assoc.org/events/annual-2025 for 2025; 300 attendees."
    assert red(redactor, text) == text


def test_version_numbers_are_not_ip_addresses(redactor: Redactor) -> None:
    assert red(redactor, "Version 1.2.3.4 of the app crashes") == (
        "Version 1.2.3.4 of the app crashes"
    )


def test_luhn_invalid_card_is_not_a_card(redactor: Redactor) -> None:
    assert "CREDIT_CARD" not in redactor.redact("order 4111 1111 1111 1112 shipped").entity_counts


def test_custom_member_id_pattern() -> None:
    r = Redactor.build(member_id_pattern=r"\b(NE-\d{5})\b")
    out = r.redact("my badge says NE-40213 and it is wrong")
    assert out.text == "my badge says <MEMBER_ID_1> and it is wrong"


# -- numbering ------------------------------------------------------------------------------------
def test_same_value_same_number_different_values_next_number(redactor: Redactor) -> None:
    text = "Mail a@example.org, then b@example.org, then A@Example.org again."
    assert red(redactor, text) == (
        "Mail <EMAIL_ADDRESS_1>, then <EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1> again."
    )


def test_phone_numbers_written_differently_share_a_number(redactor: Redactor) -> None:
    out = red(redactor, "Call (555) 123-4567 or 555.123.4567, not 555-987-6543.")
    assert out == "Call <PHONE_NUMBER_1> or <PHONE_NUMBER_1>, not <PHONE_NUMBER_2>."


def test_first_name_alone_reuses_the_full_name_number(redactor: Redactor) -> None:
    out = red(redactor, "Dear Maria Gonzalez,\nI met Chris Park. Maria said yes.")
    assert out == "Dear <PERSON_1>,\nI met <PERSON_2>. <PERSON_1> said yes."


# -- known people (hashes only) ------------------------------------------------------------------
def test_known_full_name_matched_without_context(redactor: Redactor) -> None:
    assert red(redactor, "Honestly dana whitfield was rude.") == "Honestly <PERSON_1> was rude."
    assert red(redactor, "Will Grant chaired it") == "<PERSON_1> chaired it"


def test_known_unusual_name_and_email_handle(redactor: Redactor) -> None:
    out = redactor.redact("I told Oluwaseun, and ask seun.adeyemi about dwhitfield.")
    assert "Oluwaseun" not in out.text and "dwhitfield" not in out.text
    assert "seun.adeyemi" not in out.text
    assert out.recognizer_counts.get("KnownPeopleRecognizer", 0) >= 2


@pytest.mark.parametrize(
    "text",
    [
        "I spoke with Dana yesterday.",
        "Dana said the renewal was fixed.",
        "We talked to dana about it.",
        "Thanks to Dana for the help",
        "Dana's session was the best.",
    ],
)
def test_known_first_name_only_in_context(redactor: Redactor, text: str) -> None:
    out = redactor.redact(text)
    assert "Dana" not in out.text and "dana" not in out.text
    assert out.entity_counts == {"PERSON": 1}


def test_known_ordinary_word_name_needs_context(redactor: Redactor) -> None:
    # "Will" is a known member's first name, but also a word.
    assert red(redactor, "Will the session be recorded? I will attend.") == (
        "Will the session be recorded? I will attend."
    )
    assert red(redactor, "I spoke with Will about it") == "I spoke with <PERSON_1> about it"


def test_saved_index_holds_only_hashes(tmp_path: Path, known: KnownPeople) -> None:
    path = tmp_path / "known_people.sqlite"
    known.save(path)
    blob = path.read_bytes()
    for value in ("Dana", "Whitfield", "dwhitfield@example.org", "dwhitfield", "Oluwaseun"):
        for form in {value, value.lower(), value.upper()}:
            assert form.encode("utf-8") not in blob
            assert form.encode("utf-16-le") not in blob
            assert hashlib.sha256(form.encode()).digest()[:8] not in blob  # no unkeyed hash
            assert hashlib.sha256(form.encode()).hexdigest()[:16].encode() not in blob
    loaded = KnownPeople.load(path, SECRET)
    assert len(loaded) == len(known) == 3
    assert red(Redactor.build(known_people=loaded), "Oluwaseun told me") == "<PERSON_1> told me"


def test_index_is_incremental_and_keyed(tmp_path: Path) -> None:
    path = tmp_path / "kp.sqlite"
    index = KnownPeople(SECRET)
    index.add_names("Xiomara", "Quispe", ["xq@example.net"])
    index.save(path)
    index = KnownPeople.load(path, SECRET)
    index.add_names("Thandiwe", "Nkosi", [])
    index.add_names("Xiomara", "Quispe", ["xq@example.net"])  # the same person again
    index.save(path)
    again = KnownPeople.load(path, SECRET)
    assert len(again) == 2
    out = red(Redactor.build(known_people=again), "Xiomara Quispe and Thandiwe Nkosi came")
    assert out == "<PERSON_1> and <PERSON_2> came"
    with pytest.raises(ValueError, match="different secret"):
        KnownPeople.load(path, b"another-secret-0123456789")


def test_short_and_stop_tokens_are_not_indexed() -> None:
    index = KnownPeople(SECRET)
    index.add_names("J", "de la Cruz", [])
    assert index.kinds("j") == 0 and index.kinds("de") == 0 and index.kinds("la") == 0
    assert index.kinds("cruz") != 0
    assert len(index) == 1


# -- gazetteer with and without context ----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "I will attend in May.",
        "Grant funding for chapters is late.",
        "Bill me later please, the bill was wrong.",
        "Please mark the date; I may be late. Will there be a recording?",
        "Thanks, will do.",
        "Best,\nThe Membership Team",
        "Hello everyone, great job!",
        "Grant Park was a nice venue.",
    ],
)
def test_gazetteer_name_without_context_is_untouched(redactor: Redactor, text: str) -> None:
    assert red(redactor, text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks, Maria", "Thanks, <PERSON_1>"),
        ("Thanks,\nMaria", "Thanks,\n<PERSON_1>"),
        ("Regards, Maria Gonzalez", "Regards, <PERSON_1>"),
        ("Dear Grant,\nthe event was great", "Dear <PERSON_1>,\nthe event was great"),
        ("Hi Linda, quick question", "Hi <PERSON_1>, quick question"),
        ("Contact: Brian Lee", "Contact: <PERSON_1>"),
        ("ask @jsmith42 for slides", "ask @<PERSON_1> for slides"),
        ("Dr. Okonkwo gave the keynote", "Dr. <PERSON_1> gave the keynote"),
        ("Ms. Patel replied", "Ms. <PERSON_1> replied"),
        ("my name is Jamal and I joined", "my name is <PERSON_1> and I joined"),
        ("Best,\nXiaoling Chen\n", "Best,\n<PERSON_1>\n"),
        ("Brian Lee and Karen said no", "<PERSON_1> and <PERSON_2> said no"),
        ("Bill Johnson called twice", "<PERSON_1> called twice"),
        ("Maria J. Gonzalez attended", "<PERSON_1> attended"),
        ("I met Christian at lunch", "I met <PERSON_1> at lunch"),
        ("Congratulations to Tamika Johnson-Reyes!", "Congratulations to <PERSON_1>!"),
    ],
)
def test_gazetteer_name_in_context_is_redacted(
    redactor: Redactor, text: str, expected: str
) -> None:
    assert red(redactor, text) == expected


# -- allow-list -----------------------------------------------------------------------------------
def test_allow_list_is_respected(redactor: Redactor) -> None:
    text = "Dear Leadership Academy team, the Northeast Chapter loved the Annual Conference. CAE and CPE credits matter."
    assert red(redactor, text) == text


def test_allow_list_file_loads(tmp_path: Path) -> None:
    phrases = load_allow_list(REPO / "config" / "vocabulary.yaml")
    assert {"Northeast Chapter", "Annual Conference", "Leadership Academy", "CAE", "PAC"} <= set(
        phrases
    )
    custom = tmp_path / "v.yaml"
    custom.write_text("chapters: [Lincoln Chapter]\nacronyms: [CE]\n")
    r = Redactor.build(allow_list=load_allow_list(custom))
    assert red(r, "Hi Lincoln Chapter, thanks") == "Hi Lincoln Chapter, thanks"
    assert load_allow_list(tmp_path / "missing.yaml") == ()


# -- placeholder injection ------------------------------------------------------------------------
def test_member_typed_placeholders_are_neutralised(redactor: Redactor) -> None:
    out = redactor.redact(
        "I am <PERSON_1> and <EMAIL_ADDRESS_3>, mail me at a@example.org, Dear Maria,"
    )
    assert out.text == (
        "I am \u2039PERSON_1\u203a and \u2039EMAIL_ADDRESS_3\u203a, mail me at <EMAIL_ADDRESS_1>, Dear <PERSON_1>,"
    )
    # exactly the real placeholders remain, numbered from 1
    assert PLACEHOLDER.findall(out.text) == [("EMAIL_ADDRESS", "1"), ("PERSON", "1")]
    assert out.entity_counts == {"EMAIL_ADDRESS": 1, "PERSON": 1}
    assert out.recognizer_counts["PlaceholderLookalike"] == 2


# -- counts and repr ------------------------------------------------------------------------------
def test_counts_and_repr_hold_no_values(redactor: Redactor) -> None:
    text = "Hi Maria, call 555-123-4567 or mail maria@example.org; Maria said 555-123-4567 works."
    out = redactor.redact(text)
    assert out.entity_counts == {"PERSON": 2, "PHONE_NUMBER": 2, "EMAIL_ADDRESS": 1}
    assert sum(out.recognizer_counts.values()) == 5
    assert out.recognizer_counts["PhoneRecognizer"] == 2
    assert "Maria" not in repr(out) and "555" not in repr(out) and "example" not in repr(out)
    assert isinstance(out, Redaction)
    with pytest.raises(AttributeError):
        out.text = "x"  # type: ignore[misc]


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        b"\x00\xff\xfe junk \x80".decode("utf-8", errors="replace"),
        b"\xed\xa0\x80 lone surrogate".decode("utf-8", errors="surrogateescape"),
        "مرحبا، اسمي أحمد. 我的名字是王伟。Dear Maria, 😀" * 3,
        "😀🎉🔥" * 5000,
        "<<<>>>" * 1000 + "<PERSON_" * 500,
    ],
)
def test_bad_input_gives_an_outcome(redactor: Redactor, text: str) -> None:
    out = redactor.redact(text)
    assert isinstance(out.text, str)
    if not text.strip():
        assert out.text == text and out.entity_counts == {}


def test_bytes_and_none_are_coerced(redactor: Redactor) -> None:
    assert redactor.redact(b"mail a@example.org \xff").text.startswith("mail <EMAIL_ADDRESS_1>")  # type: ignore[arg-type]
    assert redactor.redact(None).text == ""  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        redactor.redact(42)  # type: ignore[arg-type]


def test_one_megabyte_text_is_bounded(redactor: Redactor) -> None:
    chunk = "Dear Maria, call 555-123-4567 about Member #104233. The conference was fine. " * 10
    text = (chunk + "\n") * (1_000_000 // len(chunk))
    out = redactor.redact(text)
    assert "555-123-4567" not in out.text and "Maria" not in out.text
    assert "<PHONE_NUMBER_1>" in out.text and "<PHONE_NUMBER_2>" not in out.text


def test_mixed_scripts_keep_their_text(redactor: Redactor) -> None:
    text = "الخدمة ممتازة 我很满意 — call 555-123-4567"
    assert red(redactor, text) == "الخدمة ممتازة 我很满意 — call <PHONE_NUMBER_1>"


# -- batch, processes, build ----------------------------------------------------------------------
SAMPLES = [
    "Hi Maria, call (555) 123-4567.",
    "",
    "I will attend in May.",
    "spoke with Dana; Member #104233; dob: 1/2/1980",
    "Thanks,\nBrian Lee",
    "visit https://www.example.org/events and linkedin.com/in/brian-lee",
] * 5


def test_batch_equals_per_item(redactor: Redactor) -> None:
    assert redactor.redact_batch(SAMPLES) == [redactor.redact(t) for t in SAMPLES]


def test_processes_equal_per_item(known: KnownPeople, redactor: Redactor) -> None:
    kwargs = {"known_people": known, "allow_list": ("Annual Conference",)}
    pickle.dumps(kwargs)  # build args travel to worker processes
    texts = SAMPLES * 4
    got = redact_in_processes(texts, processes=2, build_kwargs=kwargs, chunk_size=30)
    assert got == [redactor.redact(t) for t in texts]


def test_ner_is_never_downloaded(known: KnownPeople) -> None:
    assert Redactor.build(known_people=known, allow_list=["CAE"]).redact("Dear Maria").text == (
        "Dear <PERSON_1>"
    )
    with pytest.raises(ValueError, match="not an installed spaCy model"):
        Redactor.build(ner_model="en_core_web_nonexistent_model")


def test_secret_is_required() -> None:
    with pytest.raises(ValueError):
        KnownPeople(b"")


def test_presidio_analyzer_over_the_same_registry(redactor: Redactor) -> None:
    results = redactor.analyzer.analyze("Dear Maria, mail a@example.org", language="en")
    assert {r.entity_type for r in results} == {"PERSON", "EMAIL_ADDRESS"}


def test_ordinary_word_list_ships_and_keeps_names_out() -> None:
    from orchestration.lib.pii.lexicon import ordinary_words

    words = ordinary_words()
    assert {"account", "conference", "may", "will", "grace", "bill", "date"} <= words
    assert not {"jennifer", "dana", "michael", "sarah"} & words


def test_address_counts_in_audit_metadata(redactor: Redactor) -> None:
    out = redactor.redact("Dana Whitfield moved to 77 W. Oak Avenue, Springfield, IL 62704.")
    assert out.entity_counts == {"PERSON": 1, "STREET_ADDRESS": 1}
    assert out.recognizer_counts.get("StreetAddressRecognizer") == 1
    assert "Oak" not in out.text and "62704" not in out.text
