"""Team mode's accounts and sessions: the handle ``Review.team``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from review.team.accounts import Role, User
    from review.team.workflow import Session

if TYPE_CHECKING:
    from review.api import Review


class Team:
    """Team mode's accounts and sessions (``review.team``): who may use the screening web
    pages (``casepool serve``) and as which role; passwords hashed with argon2."""

    def __init__(self, review: Review) -> None:
        self.review = review
        self.store = review.store

    def add_user(self, name: str, *, password: str, role: Role = "reviewer") -> User:
        """Create an account; its name is the person's screening reviewer name."""
        from review.team.workflow import add_user

        return add_user(
            self.store,
            name,
            role=role,
            password=password,
            at=self.review.clock(),
            by=self.review.actor,
        )

    def set_password(self, name: str, *, password: str) -> None:
        """Give an account a new password (its open sessions end)."""
        from review.team.workflow import set_password

        set_password(self.store, name, password=password)

    def users(self) -> list[User]:
        from review.team.workflow import users

        return users(self.store)

    def is_lead(self, user: User) -> bool:
        """A lead has role lead or is one of the protocol's ``[screening] leads``."""
        return user.is_lead(self.review.protocol.screening.leads)

    def login(self, name: str, password: str, *, address: str) -> Session:
        """Check a password and open a new session (LoginError; LoginRateLimited after too
        many failures for the name or from the address)."""
        from review.team.workflow import login

        return login(self.store, name, password, address=address, at=self.review.clock())

    def session(self, token: str) -> Session | None:
        """The open session of a cookie's token, or None."""
        from review.team.workflow import session

        return session(self.store, token, at=self.review.clock())

    def logout(self, token: str) -> None:
        from review.team.workflow import logout

        logout(self.store, token)
