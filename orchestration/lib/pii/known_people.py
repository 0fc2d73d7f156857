"""Names and e-mails of known people (members, staff), kept only as keyed hashes.

Each lowercase token of a name, each adjacent pair of name tokens ("dana whitfield"), each
e-mail address and each e-mail local part is reduced to HMAC-SHA256(secret, value), truncated
to 128 bits. Only those digests (with a bit mask saying what kind of token produced them) are
held in memory or written to disk: the values themselves are never stored. Matching hashes a
candidate from the text with the same secret and looks the digest up.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.records import MemberRecord

FIRST = 1
LAST = 2
FULL = 4  # two adjacent name tokens, e.g. "dana whitfield"
EMAIL = 8
HANDLE = 16  # the local part of an e-mail address, e.g. "dwhitfield"
PERSON_KEY = 32  # one digest per distinct person, so that len() counts people

DIGEST_BYTES = 16
_SCHEMA_VERSION = "1"
_CHECK_LABEL = b"member-pulse/known-people/v1"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Tokens never indexed: particles, titles and suffixes that are not names on their own.
STOP_TOKENS = _words(
    """
    mr mrs ms miss mx dr prof rev sir jr sr ii iii iv md phd cpa cae esq
    the and of van von der den de del della di da du la le las los st ste san
    bin ibn al el ben mac
    """
)
# Local parts of shared mailboxes: not a person.
GENERIC_MAILBOXES = _words(
    """
    info admin office membership members member contact support help hello noreply no-reply
    donotreply events events-team registration billing accounts sales marketing webmaster
    postmaster team staff board chapter chapters education conference news newsletter
    """
)

_NAME_SPLIT = re.compile(r"[\s,;/]+")
_PART_SPLIT = re.compile(r"[-'\u2019.]+")


def normalise_token(token: str) -> str:
    """The form a name token is hashed in: NFKC, case-folded, typographic apostrophe folded."""
    return unicodedata.normalize("NFKC", token).casefold().replace("\u2019", "'").strip("'-.")


def _indexable(token: str) -> bool:
    return len(token) >= 2 and token not in STOP_TOKENS


def _name_tokens(value: str | None) -> list[str]:
    if not value:
        return []
    return [t for t in (normalise_token(p) for p in _NAME_SPLIT.split(value)) if t]


class KnownPeople:
    """An incremental index of keyed hashes of known people's names and e-mail addresses.

    `KnownPeople(secret)` starts empty; `add` / `add_names` can be called at any time (also
    after `load`), `save` writes a small SQLite file of digests only.
    """

    __slots__ = ("_digests", "_proto", "_secret")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes | bytearray) or not secret:
            raise ValueError("KnownPeople needs a non-empty bytes secret (PULSE_HMAC_SECRET)")
        self._secret = bytes(secret)
        self._proto = hmac.new(self._secret, digestmod=hashlib.sha256)
        self._digests: dict[bytes, int] = {}

    # -- hashing --------------------------------------------------------------------------
    def digest(self, value: str) -> bytes:
        """HMAC-SHA256 of an already normalised value, truncated to 128 bits."""
        h = self._proto.copy()
        h.update(value.encode("utf-8", "surrogatepass"))
        return h.digest()[:DIGEST_BYTES]

    def kinds(self, normalised: str) -> int:
        """Bit mask of the kinds (FIRST, LAST, ...) under which `normalised` is known; 0 if not."""
        if not self._digests:
            return 0
        return self._digests.get(self.digest(normalised), 0)

    def _put(self, value: str, kind: int) -> None:
        d = self.digest(value)
        self._digests[d] = self._digests.get(d, 0) | kind

    # -- adding ---------------------------------------------------------------------------
    def add(self, member: MemberRecord) -> None:
        """Index a member's first name, last name and e-mail addresses (nothing else)."""
        self.add_names(member.first_name, member.last_name, member.emails)

    def add_names(self, first: str | None, last: str | None, emails: Iterable[str] = ()) -> None:
        """Index one person. Any part may be missing; tokens < 2 chars or stop words are skipped."""
        firsts = [t for t in _name_tokens(first) if _indexable(t)]
        lasts = [t for t in _name_tokens(last) if _indexable(t)]
        emails = [e.strip().casefold() for e in (emails or ()) if e and "@" in e]
        if not (firsts or lasts or emails):
            return
        for kind, tokens in ((FIRST, firsts), (LAST, lasts)):
            for token in tokens:
                self._put(token, kind)
                for part in _PART_SPLIT.split(token):  # "smith-jones" -> smith, jones
                    if part != token and _indexable(part):
                        self._put(part, kind)
        sequence = firsts + lasts
        for a, b in itertools.pairwise(sequence):
            self._put(f"{a} {b}", FULL)
        if firsts and lasts:  # first name + surname, skipping middle names
            self._put(f"{firsts[0]} {lasts[-1]}", FULL)
            self._put(f"{lasts[-1]} {firsts[0]}", FULL)  # "Whitfield, Dana"
        for email in emails:
            self._put(email, EMAIL)
            local = email.split("@", 1)[0].split("+", 1)[0]
            if len(local) >= 3 and local not in GENERIC_MAILBOXES:
                self._put(local, HANDLE)
        self._put("\x1e".join(["person", *firsts, "|", *lasts, "|", *sorted(emails)]), PERSON_KEY)

    # -- size / persistence -----------------------------------------------------------------
    def __len__(self) -> int:
        """Number of distinct people indexed."""
        return sum(1 for kinds in self._digests.values() if kinds & PERSON_KEY)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def __repr__(self) -> str:
        return f"KnownPeople(people={len(self)}, digests={len(self._digests)})"

    def _check(self) -> bytes:
        h = self._proto.copy()
        h.update(_CHECK_LABEL)
        return h.digest()[:DIGEST_BYTES]

    def save(self, path: Path | str) -> None:
        """Write every digest to `path` (SQLite), atomically replacing an older snapshot."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".known_people.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            con = sqlite3.connect(tmp)
            try:
                con.execute("PRAGMA journal_mode=OFF")
                con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
                con.execute(
                    "CREATE TABLE digests (digest BLOB PRIMARY KEY, kinds INTEGER NOT NULL)"
                    " WITHOUT ROWID"
                )
                con.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema_version", _SCHEMA_VERSION), ("secret_check", self._check())],
                )
                con.executemany("INSERT INTO digests VALUES (?, ?)", self._digests.items())
                con.commit()
            finally:
                con.close()
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path | str, secret: bytes) -> KnownPeople:
        """Read a file written by `save`; the secret must be the one it was written with."""
        index = cls(secret)
        con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta"))
            if meta.get("schema_version") != _SCHEMA_VERSION:
                raise ValueError(f"{path}: unsupported known-people schema")
            if meta.get("secret_check") != index._check():
                raise ValueError(
                    f"{path}: written with a different secret (PULSE_HMAC_SECRET changed?); "
                    "rebuild the known-people index"
                )
            index._digests = {bytes(d): int(k) for d, k in con.execute("SELECT * FROM digests")}
        finally:
            con.close()
        return index

    # Pickling (for worker processes of `redact_in_processes`): the hmac object does not
    # pickle, so the state is the key and the digests; it only travels to local child processes.
    def __getstate__(self) -> tuple[bytes, dict[bytes, int]]:
        return self._secret, self._digests

    def __setstate__(self, state: tuple[bytes, dict[bytes, int]]) -> None:
        secret, digests = state
        self._secret = secret
        self._proto = hmac.new(secret, digestmod=hashlib.sha256)
        self._digests = digests
