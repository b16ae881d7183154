"""The review folder: ``protocol.toml`` (the protocol in force) and the store.

The folder is found by ``--review DIR``, then ``$CASEPOOL_REVIEW``, then the current folder.
Its store is the database ``--db URL`` or ``$CASEPOOL_DB`` names, else the one the folder's
``database.url`` names (written by ``casepool init --db``), else ``review.db`` in the folder
(SQLite). The protocol text and its sha256 are recorded in the store; a changed
``protocol.toml`` is recorded as a dated amendment when the review is next opened, never
silently replacing the original.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from review.clock import Clock
from review.errors import WorkspaceError
from review.protocol.loading import parse_protocol, read_protocol_text, sha256_text
from review.protocol.model import Protocol
from review.protocol.versions import ProtocolVersion
from review.store import Store, open_store, sqlite_url, store_url, url_without_password
from review.store.protocol_versions import add_version, latest_version

STORE_FILE = "review.db"
PROTOCOL_FILE = "protocol.toml"
DATABASE_FILE = "database.url"
REVIEW_ENV = "CASEPOOL_REVIEW"
DB_ENV = "CASEPOOL_DB"


def resolve_review_dir(
    explicit: Path | None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path:
    """The review folder: ``explicit``, else ``$CASEPOOL_REVIEW``, else the current folder."""
    environ = os.environ if env is None else env
    if explicit is not None:
        return explicit
    if environ.get(REVIEW_ENV):
        return Path(environ[REVIEW_ENV])
    return cwd if cwd is not None else Path.cwd()


def how_found(explicit: Path | None, env: Mapping[str, str]) -> str:
    """How the review folder was found, for messages."""
    if explicit is not None:
        return "given with --review"
    if env.get(REVIEW_ENV):
        return f"from ${REVIEW_ENV}"
    return "the current folder"


def folder_store_url(
    directory: Path, db: str | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """The URL of the folder's store (see the module docstring), or None if it has none."""
    environ = os.environ if env is None else env
    if db or environ.get(DB_ENV):
        return store_url(db or environ[DB_ENV])
    named = directory / DATABASE_FILE
    if named.is_file():
        text = named.read_text(encoding="utf-8").strip()
        if not text:
            raise WorkspaceError(f"{named}: empty; it should hold the review's database URL")
        return store_url(text)
    local = directory / STORE_FILE
    return sqlite_url(local) if local.is_file() else None


def record_protocol(
    store: Store, text: str, file_name: str, *, clock: Clock, actor: str | None
) -> tuple[ProtocolVersion, bool]:
    """Record ``text`` as the protocol unless it is the one in force; return the version in
    force and whether it was recorded now."""
    digest = sha256_text(text)
    with store.transaction() as tx:
        latest = latest_version(tx)
        if latest is not None and latest.sha256 == digest:
            return latest, False
        kind = "original" if latest is None else "amendment"
        version = add_version(
            tx, kind=kind, file_name=file_name, sha256=digest, text=text, at=clock(), by=actor
        )
        return version, True


def load_folder_protocol(directory: Path) -> tuple[Protocol, str]:
    """The folder's protocol, validated, and its text."""
    path = directory / PROTOCOL_FILE
    text = read_protocol_text(path)
    return parse_protocol(text, name=str(path)), text


@dataclass(frozen=True)
class InitResult:
    """What ``init_review`` did."""

    dir: Path
    created: bool
    version: ProtocolVersion
    amended: bool
    store: str

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "review": str(self.dir),
            "created": self.created,
            "amended": self.amended,
            "protocol_version": self.version.number,
            "kind": self.version.kind,
            "sha256": self.version.sha256,
            "recorded_at": self.version.recorded_at,
            "store": self.store,
        }


def init_review(
    directory: Path,
    protocol_file: Path,
    *,
    clock: Clock,
    actor: str | None,
    db: str | None = None,
    env: Mapping[str, str] | None = None,
    force: bool = False,
) -> InitResult:
    """Create a review folder from a protocol, or record a changed protocol as an amendment.

    The protocol is validated first; nothing is created when it does not validate. Over a
    review whose ``protocol.toml`` was edited in place (its edit recorded as the amendment
    in force), init refuses unless ``force``: it would replace the edit. With
    ``db`` (a PostgreSQL or SQLite URL) the store lives there and the folder's
    ``database.url`` names it (without a password: give that as PGPASSWORD or in ~/.pgpass).
    """
    text = read_protocol_text(protocol_file)
    parse_protocol(text, name=str(protocol_file))
    if directory.exists() and not directory.is_dir():
        raise WorkspaceError(f"{directory}: exists and is not a folder")
    url = folder_store_url(directory, db, env) or sqlite_url(directory / STORE_FILE)
    target = directory / PROTOCOL_FILE
    local = url == sqlite_url(directory / STORE_FILE)
    new_store = not (directory / STORE_FILE).exists() if local else None
    if new_store and target.exists() and target.resolve() != protocol_file.resolve():
        raise WorkspaceError(
            f"{target} exists but {directory} has no {STORE_FILE}; move it away or "
            "initialise in a new folder"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"{directory}: cannot create the review folder: {exc}") from None
    with open_store(url, create=True) as store:
        with store.read() as tx:
            latest = latest_version(tx)
        if latest is not None and latest.sha256 == sha256_text(text):
            return InitResult(directory, False, latest, False, store.display_url)
        if target.resolve() != protocol_file.resolve():
            if latest is not None and target.is_file():
                on_disk = sha256_text(read_protocol_text(target))
                if on_disk != latest.sha256:
                    raise WorkspaceError(
                        f"{target} has changes that are not recorded yet; run any command "
                        "on the review to record them as an amendment, or undo them, first"
                    )
                edited_here = latest.kind == "amendment" and latest.file_name == PROTOCOL_FILE
                if edited_here and not force:
                    raise WorkspaceError(
                        f"{target} (protocol version {latest.number}, recorded "
                        f"{latest.recorded_at}) differs from {protocol_file}; init would "
                        f"replace it. To amend the review, edit {target} (the next command "
                        f"records it); or give --force to replace it with {protocol_file}, "
                        f"recorded as amendment {latest.number + 1}"
                    )
            shutil.copyfile(protocol_file, target)
        if not local:
            (directory / DATABASE_FILE).write_text(url_without_password(url) + "\n", "utf-8")
        version, _ = record_protocol(store, text, protocol_file.name, clock=clock, actor=actor)
        # created: the original protocol is recorded now (also over a store a failed init left)
        return InitResult(directory, latest is None, version, latest is not None, store.display_url)


def open_folder(
    explicit: Path | None, *, db: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[Path, str]:
    """The review folder and its store's URL; WorkspaceError if it is not a review."""
    environ = os.environ if env is None else env
    directory = resolve_review_dir(explicit, environ)
    if not directory.is_dir():
        raise WorkspaceError(
            f"{directory} ({how_found(explicit, environ)}): no such folder; "
            "create a review with 'casepool init DIR --protocol FILE'"
        )
    url = folder_store_url(directory, db, environ)
    if url is None:
        raise WorkspaceError(
            f"{directory} ({how_found(explicit, environ)}) is not a review folder "
            f"(no {STORE_FILE}); create one with 'casepool init DIR --protocol FILE' "
            "or point to it with --review DIR"
        )
    return directory, url
