"""report.html seen in a real browser: headless Chromium (Debian's ``chromium``) loads the
page with every request to the outside sent to a closed port, and a probe script appended
to a copy of the page records what the browser drew: each figure's box, the resources it
fetched, script errors, the page's width. A screenshot shows every figure is not blank.

Skipped when Chromium is missing, except under CI=true (``.ci/run`` installs it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser import chromium_or_skip
from reports import extracted_review

from review.api import Review
from review.report import write_report

CHROMIUM = chromium_or_skip("the report's browser tests")

PROBE = """
<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message)));
window.addEventListener("load", () => {
  const figures = [...document.querySelectorAll("figure")].map(f => {
    const svg = f.querySelector("svg");
    const box = svg ? svg.getBoundingClientRect() : null;
    const outer = f.getBoundingClientRect();
    return {id: f.id, svg: !!svg, figureWidth: outer.width, x: box && box.left + window.scrollX,
            y: box && box.top + window.scrollY, width: box && box.width,
            height: box && box.height};
  });
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    figures,
    resources: performance.getEntriesByType("resource").map(r => r.name),
    errors: window.__errors,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    height: document.documentElement.scrollHeight,
  });
  document.body.appendChild(out);
});
</script>
"""


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium offline: no background traffic, every request through a proxy
    on a closed port (a request to the outside would fail, and show)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        "--proxy-server=127.0.0.1:9",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    folder = extracted_review(base / "review")
    with Review.open(folder) as review:
        write_report(review, base / "out", run_log=["run"], run_date="2026-12-01T10:00:00Z")
    return base / "out" / "report.html"


def probe(page: Path, tmp: Path, width: int) -> tuple[dict, str]:
    """Load a copy of the page with the probe at ``width`` px; the probe's findings and
    Chromium's console log."""
    probed = tmp / f"probed-{width}.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    done = chromium(
        tmp / f"profile-{width}",
        f"--window-size={width},900",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probed.as_uri(),
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found is not None, done.stderr[-2000:]
    text = found.group(1).replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(text.replace("&lt;", "<").replace("&gt;", ">")), done.stderr


def console_messages(log: str) -> list[str]:
    """Every console message (the page has no script, so any is a fault: an uncaught error
    is logged as 'Uncaught ...')."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def test_every_figure_draws_with_nothing_fetched_and_no_errors(page: Path, tmp_path: Path) -> None:
    found, log = probe(page, tmp_path, 1280)
    assert found["errors"] == [] and console_messages(log) == []
    assert found["resources"] == []  # nothing fetched: no image, font, style or script
    figures = found["figures"]
    assert [f["id"] for f in figures][:2] == ["figure-prisma", "figure-forest-clinical_response"]
    assert len(figures) == 7
    for f in figures:
        assert f["svg"] and f["width"] > 200 and f["height"] > 100, f


def test_the_page_fits_a_phone_with_tables_scrolling_in_their_boxes(
    page: Path, tmp_path: Path
) -> None:
    found, _ = probe(page, tmp_path, 390)  # headless Chromium widens this to 500 px at least
    assert found["innerWidth"] <= 500
    assert found["scrollWidth"] <= found["innerWidth"]  # nothing sticks out sideways
    for f in found["figures"]:  # a figure scrolls inside its box at a readable size
        assert 0 < f["figureWidth"] <= found["innerWidth"] - 19 and f["width"] >= 500, f


def test_a_screenshot_shows_every_figure_not_blank(page: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    found, _ = probe(page, tmp_path, 1280)
    shot = tmp_path / "report.png"
    done = chromium(
        tmp_path / "profile-shot",
        f"--window-size=1280,{int(found['height']) + 50}",
        "--virtual-time-budget=5000",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert shot.exists(), done.stderr[-2000:]
    keep = os.environ.get("CASEPOOL_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / "report-desktop.png")
        for f in found["figures"]:
            box = (int(f["x"]), int(f["y"]), int(f["x"] + f["width"]), int(f["y"] + f["height"]))
            Image.open(shot).crop(box).save(Path(keep) / f"{f['id']}.png")
    image = Image.open(shot).convert("L")
    for f in found["figures"]:
        box = (int(f["x"]), int(f["y"]), int(f["x"] + f["width"]), int(f["y"] + f["height"]))
        region = image.crop(box)
        stat = ImageStat.Stat(region)
        dark = sum(region.histogram()[:128]) / (region.width * region.height)
        assert stat.stddev[0] > 20 and dark > 0.005, (f["id"], stat.stddev, dark)


def test_the_probe_sees_console_errors_and_requests_to_the_outside(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><figure id="f"><svg width="300" height="150"></svg>'
        '</figure><img src="http://example.invalid/a.png">'
        '<script>console.error("boom"); throw new Error("bang");</script></body></html>'
    )
    found, log = probe(bad, tmp_path, 800)
    assert any('"boom"' in line for line in console_messages(log))
    assert any("Uncaught Error: bang" in line for line in console_messages(log))
    assert found["resources"] == ["http://example.invalid/a.png"]


def test_the_page_prints(page: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    done = chromium(
        tmp_path / "profile-print",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        page.as_uri(),
    )
    assert pdf.exists(), done.stderr[-2000:]
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert data.startswith(b"%PDF") and pages >= 5, pages
    assert len(data) > 50_000  # text, tables and seven figures, not an empty page
