"""Redact text typed into the dashboard (review notes, questions) before it is stored or used.

The same offline Presidio redactor the pipeline uses (orchestration.lib.redaction), built once
per process: pattern recognizers, the association vocabulary as an allow-list, and the keyed
hashes of known names when the installation's HMAC secret and hash file are available.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import streamlit as st

from orchestration.lib.config import DEFAULT_VOCABULARY, paths

logger = logging.getLogger(__name__)


def _secret(pii_dir: Path) -> bytes | None:
    configured = os.environ.get("PULSE_HMAC_SECRET")
    if configured:
        return configured.encode()
    local = pii_dir / "hmac_secret"  # written by `make pipeline` for the embedded default
    if local.exists():
        return local.read_text(encoding="utf-8").strip().encode() or None
    return None


@st.cache_resource(show_spinner="Loading the redactor…")
def _redactor(home: str):  # -> orchestration.lib.redaction.Redactor
    from orchestration.lib.redaction import KnownPeople, Redactor, load_allow_list

    pii_dir = paths({"PULSE_HOME": home}).pii_dir
    known = None
    secret = _secret(pii_dir)
    people = pii_dir / "known_people.sqlite"
    if secret and people.exists():
        try:
            known = KnownPeople.load(people, secret)
        except ValueError:
            logger.warning("known-people hashes unreadable with this secret; patterns only")
    vocabulary = Path(os.environ.get("PULSE_VOCABULARY") or DEFAULT_VOCABULARY)
    return Redactor.build(known_people=known, allow_list=load_allow_list(vocabulary))


def redact(text: str) -> str:
    """`text` with personal data replaced by placeholders such as <EMAIL_ADDRESS_1>."""
    if not text or not text.strip():
        return ""
    return _redactor(str(paths().home)).redact(text).text
