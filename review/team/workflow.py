"""Team mode's use cases on the store: add and list accounts, log in (argon2 password check,
rate limit, a new session every time), find the session of a request, log out.

A session token is 32 random bytes (``secrets``) given to the browser; the store keeps only
its SHA-256, so a copy of the database holds no live session. Logging in never reuses a
session the browser brought along (no session fixation). Times are arguments.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from review.errors import LoginError, LoginRateLimited, TeamError
from review.screening.events import check_name
from review.store import Store
from review.store import team as sql
from review.team.accounts import (
    SESSION_HOURS,
    WINDOW_MINUTES,
    Role,
    User,
    check_password,
    rate_limit_message,
    shifted,
)

if TYPE_CHECKING:
    from argon2 import PasswordHasher

WRONG = "wrong name or password"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check an unknown name's password against, so both take as long."""
    return _hasher().hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in person: who, the session's token (the cookie) and its CSRF token."""

    user: User
    token: str
    csrf_token: str
    expires_at: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user(row: sql.UserRow) -> User:
    return User(row.name, cast(Role, row.role), row.added_at, row.added_by)


def add_user(
    store: Store, name: str, *, role: Role, password: str, at: str, by: str | None
) -> User:
    """Create an account (its name is the person's screening reviewer name)."""
    person = check_name(name)
    hashed = _hasher().hash(check_password(password))
    with store.transaction() as tx:
        if sql.user(tx, person) is not None:
            raise TeamError(
                f"there is already an account {person}; 'casepool user list' shows them"
            )
        sql.add_user(tx, person, role=role, password_hash=hashed, at=at, by=by)
    return User(person, role, at, by)


def set_password(store: Store, name: str, *, password: str) -> None:
    """Give an account a new password and end its sessions."""
    person = check_name(name)
    hashed = _hasher().hash(check_password(password))
    with store.transaction() as tx:
        if not sql.set_password(tx, person, hashed):
            raise TeamError(f"there is no account {person}; 'casepool user list' shows them")
        sql.drop_sessions_of(tx, person)
        sql.clear_failures(tx, person)


def users(store: Store) -> list[User]:
    with store.read() as tx:
        return [_user(r) for r in sql.users(tx)]


def login(store: Store, name: str, password: str, *, address: str, at: str) -> Session:
    """Check a name and password and open a new session; a wrong one is counted, and after
    too many in the window (per name, per address) every try is refused unchecked."""
    from argon2.exceptions import InvalidHashError, VerificationError

    person = name.strip()
    if not person or len(person) > 64:
        raise LoginError(WRONG)
    since = shifted(at, minutes=-WINDOW_MINUTES)
    with store.read() as tx:
        limited = rate_limit_message(
            person, *sql.failures_since(tx, user_name=person, address=address, since=since)
        )
        found = sql.user(tx, person)
    if limited is not None:
        raise LoginRateLimited(limited)
    try:
        _hasher().verify(found.password_hash if found else _dummy_hash(), password)
        ok = found is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None:
        with store.transaction() as tx:
            sql.add_failure(tx, person, address, at=at)
        raise LoginError(WRONG)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = shifted(at, hours=SESSION_HOURS)
    with store.transaction() as tx:
        sql.clear_failures(tx, found.name)
        sql.drop_expired(tx, now=at)
        sql.add_session(
            tx, _token_hash(token), user_name=found.name, csrf_token=csrf, at=at, expires_at=expires
        )
    return Session(_user(found), token, csrf, expires)


def session(store: Store, token: str, *, at: str) -> Session | None:
    """The open session of a token (None: unknown, ended or expired)."""
    if not token or len(token) > 128:
        return None
    with store.read() as tx:
        row = sql.session(tx, _token_hash(token), now=at)
    if row is None:
        return None
    user = User(row.user_name, cast(Role, row.role), row.created_at)
    return Session(user, token, row.csrf_token, row.expires_at)


def logout(store: Store, token: str) -> None:
    with store.transaction() as tx:
        sql.drop_session(tx, _token_hash(token))
