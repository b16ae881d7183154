"""Accounts and the login rate limit (pure): roles, password rules, the window arithmetic.

A lead is an account with role ``lead`` or a person the protocol names in ``[screening]
leads``. The rate limit counts failed logins in a sliding window, per user name and per
address, so guessing one person's password and trying many names from one machine are
both slowed; the counts live in the store, so every server process shares them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from review.errors import TeamError

Role = Literal["lead", "reviewer"]
ROLES: tuple[Role, ...] = ("lead", "reviewer")
PASSWORD_MIN = 10
PASSWORD_MAX = 1024
SESSION_HOURS = 12
WINDOW_MINUTES = 15
FAILURES_PER_USER = 5
FAILURES_PER_ADDRESS = 20


@dataclass(frozen=True, slots=True)
class User:
    """An account: the person's name (their screening reviewer name) and role."""

    name: str
    role: Role
    added_at: str
    added_by: str | None = None

    def is_lead(self, leads: Collection[str]) -> bool:
        return self.role == "lead" or self.name in leads

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "added_at": self.added_at}


def parse_role(text: str) -> Role:
    value = text.strip().lower()
    if value not in ROLES:
        raise TeamError(f"{text!r} is not a role; use lead or reviewer")
    return cast(Role, value)


def check_password(password: str) -> str:
    """A new password: at least ``PASSWORD_MIN`` characters, no line breaks."""
    if "\n" in password or "\r" in password:
        raise TeamError("a password cannot hold a line break")
    if len(password) < PASSWORD_MIN:
        raise TeamError(f"the password has {len(password)} characters; use at least {PASSWORD_MIN}")
    if len(password) > PASSWORD_MAX:
        raise TeamError(f"the password is longer than {PASSWORD_MAX} characters")
    return password


def shifted(at: str, *, minutes: int = 0, hours: int = 0) -> str:
    """An ISO 8601 UTC time moved by minutes and hours, in the same form."""
    moment = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC)
    moved = moment + timedelta(minutes=minutes, hours=hours)
    return moved.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def rate_limit_message(name: str, by_user: int, by_address: int) -> str | None:
    """Why a login may not be tried now (None when it may), from the failures counted in
    the window for the name and for the address."""
    if by_user >= FAILURES_PER_USER:
        return (
            f"too many failed logins for {name} ({by_user} in {WINDOW_MINUTES} minutes); "
            f"wait {WINDOW_MINUTES} minutes or ask a lead to reset the password"
        )
    if by_address >= FAILURES_PER_ADDRESS:
        return (
            f"too many failed logins from this address ({by_address} in {WINDOW_MINUTES} "
            f"minutes); wait {WINDOW_MINUTES} minutes"
        )
    return None
