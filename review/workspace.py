"""The review folder: ``protocol.toml`` (the protocol in force) and ``review.db`` (the store).

The folder is found by ``--review DIR``, then ``$CASEPOOL_REVIEW``, then the current folder.
The protocol text and its sha256 are recorded in the store; a changed ``protocol.toml``
is recorded as a dated amendment when the review is next opened, never silently
replacing the original.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from review.errors import WorkspaceError
from review.protocol.model import Protocol, parse_protocol, read_protocol_text, sha256_text
from review.store import Store, open_store
from review.store.protocol_versions import ProtocolVersion, add_version, latest_version

STORE_FILE = "review.db"
PROTOCOL_FILE = "protocol.toml"
REVIEW_ENV = "CASEPOOL_REVIEW"


@dataclass
class Review:
    """An open review: its folder, store and the protocol in force."""

    dir: Path
    store: Store
    protocol: Protocol
    protocol_version: ProtocolVersion
    amended: ProtocolVersion | None = None

    @property
    def protocol_path(self) -> Path:
        return self.dir / PROTOCOL_FILE

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


def _how_found(explicit: Path | None, env: Mapping[str, str]) -> str:
    if explicit is not None:
        return "given with --review"
    if env.get(REVIEW_ENV):
        return f"from ${REVIEW_ENV}"
    return "the current folder"


def open_review(explicit: Path | None = None, env: Mapping[str, str] | None = None) -> Review:
    """Open the review, recording an amendment if ``protocol.toml`` changed since last time."""
    environ = os.environ if env is None else env
    directory = resolve_review_dir(explicit, environ)
    store_path = directory / STORE_FILE
    if not directory.is_dir():
        raise WorkspaceError(
            f"{directory} ({_how_found(explicit, environ)}): no such folder; "
            "create a review with 'casepool init DIR --protocol FILE'"
        )
    if not store_path.is_file():
        raise WorkspaceError(
            f"{directory} ({_how_found(explicit, environ)}) is not a review folder "
            f"(no {STORE_FILE}); create one with 'casepool init DIR --protocol FILE' "
            "or point to it with --review DIR"
        )
    store = open_store(store_path)
    try:
        protocol, version, amended = _load_protocol(store, directory / PROTOCOL_FILE)
    except BaseException:
        store.close()
        raise
    return Review(directory, store, protocol, version, amended)


def _load_protocol(
    store: Store, path: Path
) -> tuple[Protocol, ProtocolVersion, ProtocolVersion | None]:
    text = read_protocol_text(path)
    protocol = parse_protocol(text, name=str(path))
    digest = sha256_text(text)
    latest = latest_version(store.conn)
    if latest is not None and latest.sha256 == digest:
        return protocol, latest, None
    with store.transaction() as conn:
        kind = "original" if latest is None else "amendment"
        version = add_version(conn, kind=kind, file_name=path.name, sha256=digest, text=text)
    return protocol, version, version if latest is not None else None


@dataclass(frozen=True)
class InitResult:
    """What ``init_review`` did."""

    dir: Path
    created: bool
    version: ProtocolVersion
    amended: bool


def init_review(directory: Path, protocol_file: Path) -> InitResult:
    """Create a review folder from a protocol, or record a changed protocol as an amendment.

    The protocol is validated first; nothing is created when it does not validate.
    """
    text = read_protocol_text(protocol_file)
    parse_protocol(text, name=str(protocol_file))
    if directory.exists() and not directory.is_dir():
        raise WorkspaceError(f"{directory}: exists and is not a folder")
    store_path = directory / STORE_FILE
    target = directory / PROTOCOL_FILE
    new_store = not store_path.exists()
    if new_store and target.exists() and target.resolve() != protocol_file.resolve():
        raise WorkspaceError(
            f"{target} exists but {directory} has no {STORE_FILE}; move it away or "
            "initialise in a new folder"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"{directory}: cannot create the review folder: {exc}") from None
    store = open_store(store_path, create=True)
    try:
        latest = latest_version(store.conn)
        digest = sha256_text(text)
        if latest is not None and latest.sha256 == digest:
            return InitResult(directory, False, latest, False)
        if target.resolve() != protocol_file.resolve():
            if latest is not None and target.is_file():
                on_disk = sha256_text(read_protocol_text(target))
                if on_disk != latest.sha256:
                    raise WorkspaceError(
                        f"{target} has changes that are not recorded yet; run any command "
                        "on the review to record them as an amendment, or undo them, first"
                    )
            shutil.copyfile(protocol_file, target)
        with store.transaction() as conn:
            kind = "original" if latest is None else "amendment"
            version = add_version(
                conn, kind=kind, file_name=protocol_file.name, sha256=digest, text=text
            )
        # created: the original protocol is recorded now (also over a store a failed init left)
        return InitResult(directory, latest is None, version, latest is not None)
    finally:
        store.close()
