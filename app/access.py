"""Who may see what: users, roles and the query scope that app/data.py enforces.

Users come from a YAML file (`PULSE_USERS_FILE`, default `config/users.yaml`; when neither
exists the committed demo file `config/users.example.yaml` is used and the app says so).
Passwords are stored only as salted scrypt hashes (`scrypt$n$r$p$salt$hash`, hex).

Roles (a user may hold several):

- ``leadership``: every row, verbatims included; may promote proposed topics into the taxonomy;
- ``chapter_manager``: only the rows of the user's ``chapter`` (required for this role);
- ``reviewer``: may decide in the review queue (rows as their other roles allow: a reviewer
  with a ``chapter`` is limited to it);
- ``viewer``: aggregates only, never an item's text, summary or evidence.

`Scope` is what every query in app/data.py takes as a mandatory argument; the page cannot
widen it. Hash a password for the users file with ``python -m app.access hash``.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_USERS_FILE = REPO_ROOT / "config" / "users.yaml"
EXAMPLE_USERS_FILE = REPO_ROOT / "config" / "users.example.yaml"

# scrypt cost: 2**14 x 8 x 1 takes ~16 MiB and ~50 ms, the OWASP minimum for interactive logins.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class Role(StrEnum):
    LEADERSHIP = "leadership"
    CHAPTER_MANAGER = "chapter_manager"
    REVIEWER = "reviewer"
    VIEWER = "viewer"


class AccessDenied(PermissionError):
    """The signed-in user's role does not allow this query or action."""


class UsersFileError(ValueError):
    """The users file is missing or malformed (the message names the file and the entry)."""


@dataclass(frozen=True)
class Scope:
    """What a query may return. Hashable, so it is part of every cache key."""

    username: str
    chapter: str | None  # None: every chapter; else only rows of this chapter
    item_level: bool  # may read items (text, summary, evidence); False: aggregates only
    can_review: bool  # may record review decisions
    can_edit_taxonomy: bool = False  # may promote proposed topics into the taxonomy

    @property
    def label(self) -> str:
        rows = f"chapter {self.chapter} only" if self.chapter else "all chapters"
        detail = "items and aggregates" if self.item_level else "aggregates only"
        return f"{rows} · {detail}" + (" · can review" if self.can_review else "")


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: frozenset[Role]
    chapter: str | None = None
    email: str | None = None
    password_hash: str | None = None

    @property
    def scope(self) -> Scope:
        chapter_bound = Role.CHAPTER_MANAGER in self.roles or (
            self.chapter is not None and Role.LEADERSHIP not in self.roles
        )
        return Scope(
            username=self.username,
            chapter=self.chapter if chapter_bound else None,
            item_level=bool(self.roles - {Role.VIEWER}),
            can_review=Role.REVIEWER in self.roles,
            can_edit_taxonomy=Role.LEADERSHIP in self.roles,
        )

    @property
    def role_text(self) -> str:
        return ", ".join(sorted(r.value.replace("_", " ") for r in self.roles))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check of `password` against a `scrypt$...` hash; False for anything else."""
    if not stored or not password:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(bytes.fromhex(digest)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def users_file(env: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """(path, is_demo): the configured users file, or the committed demo file as a fallback."""
    env = os.environ if env is None else env
    configured = env.get("PULSE_USERS_FILE")
    if configured:
        return Path(configured), False
    if DEFAULT_USERS_FILE.exists():
        return DEFAULT_USERS_FILE, False
    return EXAMPLE_USERS_FILE, True


def load_users(path: Path) -> dict[str, User]:
    """Parse the users file; a bad file raises UsersFileError (never half-loads)."""
    if not path.exists():
        raise UsersFileError(f"users file {path} does not exist (set PULSE_USERS_FILE)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsersFileError(f"{path} is not valid YAML: {exc}") from exc
    entries = raw.get("users") if isinstance(raw, Mapping) else None
    if not isinstance(entries, list):
        raise UsersFileError(f"{path}: expected a top-level `users:` list")
    users: dict[str, User] = {}
    for index, entry in enumerate(entries, 1):
        where = f"{path}: user #{index}"
        if not isinstance(entry, Mapping) or not str(entry.get("username") or "").strip():
            raise UsersFileError(f"{where}: each user needs a `username`")
        username = str(entry["username"]).strip()
        if username in users:
            raise UsersFileError(f"{where}: duplicate username {username!r}")
        try:
            roles = frozenset(Role(str(r)) for r in entry.get("roles") or [])
        except ValueError as exc:
            raise UsersFileError(
                f"{where} ({username}): unknown role; use {[r.value for r in Role]}"
            ) from exc
        if not roles:
            raise UsersFileError(f"{where} ({username}): at least one role is required")
        chapter = entry.get("chapter")
        chapter = str(chapter).strip() if chapter not in (None, "") else None
        if Role.CHAPTER_MANAGER in roles and not chapter:
            raise UsersFileError(f"{where} ({username}): a chapter_manager needs a `chapter`")
        password_hash = entry.get("password_hash")
        email = entry.get("email")
        if not password_hash and not email:
            raise UsersFileError(
                f"{where} ({username}): needs a `password_hash` (local login) or an `email` "
                "(single sign-on)"
            )
        users[username] = User(
            username=username,
            name=str(entry.get("name") or username),
            roles=roles,
            chapter=chapter,
            email=str(email).strip().lower() if email else None,
            password_hash=str(password_hash) if password_hash else None,
        )
    return users


def authenticate(users: Mapping[str, User], username: str, password: str) -> User | None:
    user = users.get((username or "").strip())
    if user is None:
        verify_password(password, hash_password("timing-equaliser"))  # same cost either way
        return None
    return user if verify_password(password, user.password_hash) else None


def user_for_email(users: Mapping[str, User], email: str | None) -> User | None:
    """The user a single-sign-on identity maps to (by e-mail, case-insensitive)."""
    if not email:
        return None
    wanted = email.strip().lower()
    return next((u for u in users.values() if u.email == wanted), None)


def _main(argv: list[str]) -> int:
    if argv[:1] != ["hash"]:
        print("usage: python -m app.access hash   (prompts for a password, prints its hash)")
        return 2
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Again: "):
        print("The passwords differ.", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
