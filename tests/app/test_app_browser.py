"""The running app driven in a real browser (Debian's Chromium through Playwright).

Starts ``streamlit run app/streamlit_app.py`` on the small fixture registry, opens every page,
moves a Targets slider and checks that the selection changes, checks that the maps render
offline, and saves a screenshot of each page to a folder it prints.

Needs ``/usr/bin/chromium``: install it with ``sudo apt-get install chromium`` (Debian/Ubuntu).
Never ``playwright install``. Without Chromium the test skips, except when ``CI`` is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.browser import LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app" / "streamlit_app.py"
PAGES = {
    "queue": "Queue",
    "case": "Case",
    "targets": "Targets",
    "selection": "Selection",
    "monitoring": "Monitoring",
    "audit": "Audit",
}


def _settle(page: Any) -> None:
    """Wait until the script run finished and the page stopped changing."""
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=90_000)
    page.wait_for_timeout(500)


def _open(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport=LAPTOP)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("h1", timeout=90_000)
    _settle(page)
    page.errors = errors
    return page


def _no_exception(page: Any) -> None:
    found = page.query_selector_all("[data-testid=stException]")
    assert not found, found[0].inner_text()[:2000]


def test_every_page_renders_with_content(
    browser: Any, server: str, shots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(f"\nscreenshots: {shots}")
    # The first visit goes through the gate, as a person would.
    page = _open(browser, server)
    assert "Open demo mode" in page.inner_text("body")
    page.screenshot(path=str(shots / "0-gate.png"))
    page.get_by_role("button", name="Open the demo").click()
    page.wait_for_selector("h1:has-text('Queue')", timeout=90_000)
    page.close()
    for i, (slug, title) in enumerate(PAGES.items(), start=1):
        page = _open(browser, f"{server}/{slug}?as=staff&policy=saved/test.toml")
        assert page.inner_text("h1") == title
        _no_exception(page)
        body = page.inner_text("body")
        assert "Simulated data" in body
        # Tables and charts mount after the run ends (data may arrive in chunks): wait for them.
        if slug in ("queue", "selection"):
            page.wait_for_selector("[data-testid=stDataFrame]", timeout=30_000)
        if slug in ("case", "monitoring", "selection"):
            page.wait_for_selector(".vega-embed", timeout=30_000)
        if slug == "targets":  # a busy browser mounts the sliders after the run has ended
            page.get_by_test_id("stSlider").first.wait_for(timeout=30_000)
            page.get_by_test_id("stMetric").first.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / f"{i}-{slug}.png"), full_page=True)
        page.close()
    assert sorted(p.name for p in shots.glob("*.png"))[:1] == ["0-gate.png"]


_COUNT_RUNS = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    window.__started = 0;
    new MutationObserver(() => {
        if (app.dataset.testScriptState === 'running') window.__started += 1;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def test_moving_a_target_slider_changes_the_selection(
    browser: Any, server: str, shots: Path
) -> None:
    page = _open(browser, f"{server}/targets?as=mandate_holder&policy=saved/test.toml")
    _no_exception(page)
    before = page.get_by_text("would be taken up in addition").first.inner_text()
    assert "0 cases would be taken up in addition, 0 would no longer" in before
    slider = page.get_by_test_id("stSlider").filter(has_text="Woman")
    floor = slider.locator("input[type=range]").first  # the floor for women, at 25%
    assert floor.get_attribute("value") == "25"
    floor.locator("xpath=../..").click()  # the visible thumb; it takes the keyboard focus
    page.evaluate(_COUNT_RUNS)
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    assert floor.get_attribute("value") == "45"
    # The rerun starts asynchronously: wait for the sentence to change, then for the run's end.
    page.wait_for_function(
        """before => {
            const p = Array.from(document.querySelectorAll('p'))
                .find(e => e.innerText.includes('would be taken up in addition'));
            return p !== undefined && p.innerText !== before;
        }""",
        arg=before,
        timeout=90_000,
    )
    runs = page.evaluate("() => window.__started")
    _settle(page)
    _no_exception(page)
    after = page.get_by_text("would be taken up in addition").first.inner_text()
    assert after != before
    # Twenty quick key presses coalesce: far fewer script runs than presses.
    assert 1 <= runs <= 10, runs
    # Some cases now enter and leave ("10 cases" must not read as "0 cases").
    import re

    assert not re.search(r"(?<!\d)0 cases would be taken up", after), after
    assert "case(s)" not in page.inner_text("body")
    # The trade-off curve fills in from a worker thread.
    page.get_by_text("Dashed line: the value now").first.wait_for(timeout=60_000)
    page.screenshot(path=str(shots / "7-targets-moved.png"), full_page=True)
    page.close()


def test_the_maps_render_offline(browser: Any, server: str, shots: Path) -> None:
    page = _open(browser, f"{server}/monitoring?as=auditor")
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.get_by_role("tab", name="Maps").click()
    page.wait_for_timeout(1500)
    panel = page.get_by_role("tabpanel").filter(has_text="Figure 3")
    charts = panel.locator(".vega-embed")
    charts.first.wait_for(state="visible", timeout=30_000)
    assert charts.count() >= 3  # Figures 3, 6 and 8
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 200
    image = charts.first.screenshot(path=str(shots / "8-map-figure3.png"))
    # A drawn map has many colours (land shades, borders); a blank chart has one or two.
    from io import BytesIO

    from PIL import Image

    colours = Image.open(BytesIO(image)).convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 20
    page.screenshot(path=str(shots / "9-monitoring-maps.png"), full_page=True)
    outside = [u for u in requests if not u.startswith(server)]
    assert not outside, f"the maps fetched from outside the app: {outside[:5]}"
    page.close()
