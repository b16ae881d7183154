"""Team mode's tables: reviewer accounts, login sessions and failed logins.

A session row holds the SHA-256 of its token (the cookie holds the token), so reading the
store gives no one a live session. Failed logins are appended and counted in a time window
for the login rate limit, shared by every server process over the same store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from review.store.engine import Tx
from review.store.schema import web_login_failures, web_sessions, web_users


@dataclass(frozen=True, slots=True)
class UserRow:
    """A stored account."""

    name: str
    role: str
    password_hash: str
    added_at: str
    added_by: str | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A stored login session."""

    user_name: str
    role: str
    csrf_token: str
    created_at: str
    expires_at: str


def add_user(tx: Tx, name: str, *, role: str, password_hash: str, at: str, by: str | None) -> None:
    tx.connection.execute(
        insert(web_users).values(
            name=name, role=role, password_hash=password_hash, added_at=at, added_by=by
        )
    )


def set_password(tx: Tx, name: str, password_hash: str) -> int:
    """Store a new password hash; the number of accounts changed (0 or 1)."""
    done = tx.connection.execute(
        update(web_users).where(web_users.c.name == name).values(password_hash=password_hash)
    )
    return int(done.rowcount)


def user(tx: Tx, name: str) -> UserRow | None:
    row = tx.connection.execute(select(web_users).where(web_users.c.name == name)).first()
    return None if row is None else UserRow(*row)


def users(tx: Tx) -> list[UserRow]:
    return [UserRow(*r) for r in tx.connection.execute(select(web_users).order_by("name"))]


def add_session(
    tx: Tx, token_hash: str, *, user_name: str, csrf_token: str, at: str, expires_at: str
) -> None:
    tx.connection.execute(
        insert(web_sessions).values(
            token_hash=token_hash,
            user_name=user_name,
            csrf_token=csrf_token,
            created_at=at,
            expires_at=expires_at,
        )
    )


def session(tx: Tx, token_hash: str, *, now: str) -> SessionRow | None:
    """The unexpired session with this token hash, with its user's role."""
    query = (
        select(
            web_sessions.c.user_name,
            web_users.c.role,
            web_sessions.c.csrf_token,
            web_sessions.c.created_at,
            web_sessions.c.expires_at,
        )
        .join(web_users, web_users.c.name == web_sessions.c.user_name)
        .where(web_sessions.c.token_hash == token_hash, web_sessions.c.expires_at > now)
    )
    row = tx.connection.execute(query).first()
    return None if row is None else SessionRow(*row)


def drop_session(tx: Tx, token_hash: str) -> None:
    tx.connection.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))


def drop_sessions_of(tx: Tx, user_name: str) -> None:
    tx.connection.execute(delete(web_sessions).where(web_sessions.c.user_name == user_name))


def drop_expired(tx: Tx, *, now: str) -> None:
    tx.connection.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))


def add_failure(tx: Tx, user_name: str, address: str, *, at: str) -> None:
    tx.connection.execute(
        insert(web_login_failures).values(user_name=user_name, address=address, at=at)
    )


def failures_since(tx: Tx, *, user_name: str, address: str, since: str) -> tuple[int, int]:
    """Failed logins since ``since``: for this user name (from anywhere) and from this
    address (for any name)."""
    table = web_login_failures
    count = select(func.count()).select_from(table).where(table.c.at > since)
    by_user = tx.connection.execute(count.where(table.c.user_name == user_name)).scalar_one()
    by_address = tx.connection.execute(count.where(table.c.address == address)).scalar_one()
    return int(by_user), int(by_address)


def clear_failures(tx: Tx, user_name: str) -> None:
    """Forget a user's failed logins (after they logged in)."""
    tx.connection.execute(
        delete(web_login_failures).where(web_login_failures.c.user_name == user_name)
    )
