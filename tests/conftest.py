"""Shared fixtures: the bundled protocol and a fresh review folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_PROTOCOL = ROOT / "protocols" / "rtx-ssc-calcinosis.toml"


@pytest.fixture
def bundled_protocol() -> Path:
    return BUNDLED_PROTOCOL


@pytest.fixture
def review_dir(tmp_path: Path) -> Path:
    """A new review initialised from the bundled protocol."""
    from review.workspace import init_review

    directory = tmp_path / "review"
    init_review(directory, BUNDLED_PROTOCOL)
    return directory
