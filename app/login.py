"""Sign-in for the dashboard.

Embedded default: a local users file (app/access.py; passwords stored as salted scrypt
hashes) and a username/password form. Production option: Streamlit's built-in OIDC
(`st.login`) when `[auth]` is configured in `.streamlit/secrets.toml` (see the README of
config/users.example.yaml): the identity provider's e-mail is matched to a user's `email` in the
users file, which still decides the roles and the chapter. Nobody without an entry in the users
file gets in, whichever way they authenticate.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.access import User, UsersFileError, authenticate, load_users, user_for_email, users_file

SESSION_USER = "pulse_user"
_MAX_FAILURES = 5


@st.cache_data(ttl=60, show_spinner=False)
def _users(path: str, mtime_ns: int) -> dict[str, User]:
    return load_users(Path(path))


def users() -> tuple[dict[str, User], bool]:
    """The users file's users and whether it is the committed demo file."""
    path, is_demo = users_file()
    if not path.exists():
        raise UsersFileError(f"users file {path} does not exist (set PULSE_USERS_FILE)")
    return _users(str(path), path.stat().st_mtime_ns), is_demo


def oidc_configured() -> bool:
    """True when `[auth]` is set in Streamlit's secrets (st.login can then be used)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _oidc_user(known: dict[str, User]) -> User | None:
    if not oidc_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        return user_for_email(known, st.user.get("email"))
    except Exception:
        return None


def signed_in() -> tuple[User | None, bool]:
    """(the signed-in user or None, users-file-is-demo). A user removed from the file is out."""
    known, is_demo = users()
    username = st.session_state.get(SESSION_USER)
    if username is not None:
        user = known.get(username)
        if user is None:
            del st.session_state[SESSION_USER]
        return user, is_demo
    return _oidc_user(known), is_demo


def sign_out() -> None:
    st.session_state.pop(SESSION_USER, None)
    if oidc_configured():
        try:
            if st.user.is_logged_in:
                st.logout()
        except Exception:
            pass


def login_page() -> None:
    """The sign-in form (a page of its own: the only page before signing in)."""
    try:
        known, is_demo = users()
    except UsersFileError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    st.subheader("Sign in")
    if is_demo:
        st.warning(
            "Demo accounts: the users come from `config/users.example.yaml` (password "
            "`pulse-demo`). Set `PULSE_USERS_FILE` or create `config/users.yaml` before anyone "
            "else can reach this dashboard.",
            icon=":material/warning:",
        )
    failures = st.session_state.get("pulse_login_failures", 0)
    if failures >= _MAX_FAILURES:
        st.error("Too many failed attempts in this session. Reload the page to try again.")
        st.stop()
    with st.form("login", border=True):
        username = st.text_input("Username", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        user = authenticate(known, username, password)
        if user is None:
            st.session_state["pulse_login_failures"] = failures + 1
            st.error("Unknown username or wrong password.", icon=":material/lock:")
        else:
            st.session_state[SESSION_USER] = user.username
            st.session_state.pop("pulse_login_failures", None)
            st.rerun()
    if oidc_configured():
        st.divider()
        st.button("Sign in with single sign-on", on_click=st.login, icon=":material/key:")
        try:
            if st.user.is_logged_in and _oidc_user(known) is None:
                st.error(
                    "Your single sign-on account has no entry in the users file. Ask an "
                    "administrator to add your e-mail address."
                )
        except Exception:
            pass
