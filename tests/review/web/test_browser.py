"""The screening pages driven in headless Chromium (Debian's ``chromium``, through
Playwright's Python package; no browser is downloaded): a reviewer logs in and screens
three records by keyboard, a cross-reviewer request from her page is refused, and the lead
unblinds and resolves a conflict. Screenshots go to /tmp/casepool-web-*.png; any console
message (a script error, a refused style or script) fails the test.

Skipped when Chromium is missing, except under CI=true (``.ci/run`` installs it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import chromium_or_skip
from screening import ready_review
from web import PASSWORD, add_team, served

from review.api import Review

CHROMIUM = chromium_or_skip("the web pages' browser test")

try:
    import playwright.sync_api as playwright
except ImportError:  # the test extra installs it
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but playwright is missing: pip install -e '.[test]'", pytrace=False)
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)
SHOTS = Path("/tmp")


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser, base: str, console: list[str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.set_default_timeout(15_000)
    return page


def log_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/screen/ta")


def test_screening_by_keyboard_a_refused_request_and_a_resolution(
    browser, sqlite_review_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    ready_review(sqlite_review_dir, 5)
    add_team(sqlite_review_dir)
    console: list[str] = []
    with served(sqlite_review_dir) as base:
        ana = open_page(browser, base, console)
        log_in(ana, base, "ana")
        assert ana.inner_text("#left") == "5 left in your queue"
        assert ana.locator("mark.include").count() > 0
        ana.screenshot(path=str(SHOTS / "casepool-web-1-reviewer.png"), full_page=True)

        ana.keyboard.press("i")
        ana.wait_for_selector("#flash")
        assert ana.get_attribute("#record", "data-cluster") == "2"
        ana.keyboard.press("e")
        assert "type the reason's number" in ana.inner_text("#prompt")
        ana.screenshot(path=str(SHOTS / "casepool-web-2-exclude-prompt.png"), full_page=True)
        ana.keyboard.press("7")  # not a study in humans
        ana.wait_for_selector("#record[data-cluster='3']")
        ana.keyboard.press("m")
        ana.wait_for_selector("#record[data-cluster='4']")
        assert ana.inner_text("#left") == "2 left in your queue"

        refused = ana.evaluate(
            """async () => {
                const csrf = document.querySelector("input[name=csrf]").value;
                const r = await fetch("/screen/ta/decide.json", {method: "POST",
                  headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                  body: JSON.stringify({cluster: 4, decision: "include", reviewer: "ben"})});
                return [r.status, (await r.json()).error];
            }"""
        )
        assert refused == [
            400,
            "unexpected field 'reviewer'; this form takes change, cluster, decision, note, "
            "reason (you always act as yourself)",
        ]
        ana.goto(base + "/lead/conflicts/ta")
        assert ana.inner_text("#message") == (
            "Error: only a lead can open this page; ana is a reviewer of this review"
        )
        ana.screenshot(path=str(SHOTS / "casepool-web-3-refused.png"), full_page=True)

        with Review.open(sqlite_review_dir) as review:
            mine = [review.screening.history(c, viewer="ana")[1] for c in (1, 2, 3)]
            review.screening.decide(1, stage="ta", reviewer="ben", decision="exclude")
        assert [[(e.person, e.decision, e.reason, e.via) for e in trail] for trail in mine] == [
            [("ana", "include", None, "web")],
            [("ana", "exclude", "not-human", "web")],
            [("ana", "maybe", None, "web")],
        ]

        lee = open_page(browser, base, console)
        log_in(lee, base, "lee")
        lee.goto(base + "/lead")
        lee.click("#unblind-ta")
        lee.wait_for_selector("#blind-ta")
        lee.goto(base + "/lead/conflicts/ta")
        assert lee.locator(".conflict").count() == 1
        assert "ana: include" in lee.inner_text("#conflict-1")
        assert "ben: exclude" in lee.inner_text("#conflict-1")
        lee.screenshot(path=str(SHOTS / "casepool-web-4-conflicts.png"), full_page=True)
        lee.fill("#conflict-1 input[name=why]", "rituximab given; calcinosis reported")
        lee.click("#conflict-1 button[value=include]")
        lee.wait_for_selector("#none")
        lee.goto(base + "/lead/prisma")
        lee.wait_for_function("() => document.querySelector('#prisma').naturalWidth > 0")
        lee.screenshot(path=str(SHOTS / "casepool-web-5-prisma.png"), full_page=True)
    with Review.open(sqlite_review_dir) as review:
        state = review.screening.state(1, stage="ta")
    assert state.final is not None and (state.final.person, state.final.decision) == (
        "lee",
        "include",
    )
    refusals = [m for m in console if "status of 400" in m or "status of 403" in m]
    assert len(refusals) == 2  # the forged request and the lead page, both refused on purpose
    assert [m for m in console if m not in refusals] == []
