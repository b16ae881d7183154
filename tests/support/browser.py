"""Debian's Chromium for the browser tests: its path, or the module skipped on a user's
clone without it and failed under CI=true (``.ci/run`` installs it with apt-get)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def chromium_or_skip(what: str) -> str:
    """The Chromium executable; without one, skip the calling test module (``what`` names
    its tests in the message) or, under CI, fail it."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is not None:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but chromium is missing: .ci/run installs it", pytrace=False)
    pytest.skip(
        f"chromium is not installed (apt-get install chromium to run {what})",
        allow_module_level=True,
    )
