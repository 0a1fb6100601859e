"""Drive the served app in Debian's Chromium (Playwright): start the server, time interactions.

Shared by ``benchmarks/bench_browser.py`` and ``tests/app/test_app_browser.py``. Needs
``/usr/bin/chromium`` (``sudo apt-get install chromium``; never ``playwright install``).

An interaction is timed from the moment it is sent until the script run it starts has ended
(Streamlit's ``data-test-script-state`` going from ``running`` back to ``notRunning``, seen by a
MutationObserver, so a run shorter than a polling interval is not missed) plus one animation
frame for the browser to draw the result.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"
#: How ``make demo`` serves the app: ``streamlit run`` plus the caches filled at server start.
SERVE = ROOT / "app" / "serve.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_OBSERVE = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    const t0 = performance.now();
    // A run already going (a polling fragment) absorbs the interaction's rerun without the
    // state changing: count it as started at t0.
    window.__runs = [[t0, app.dataset.testScriptState]];
    if (window.__observer) window.__observer.disconnect();
    window.__observer = new MutationObserver(() => {
        window.__runs.push([performance.now(), app.dataset.testScriptState]);
    });
    window.__observer.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    return t0;
}"""
_ENDED = """t0 => {
    const runs = window.__runs || [];
    const started = runs.findIndex(r => r[0] >= t0 && r[1] === 'running');
    if (started < 0) return null;
    const ended = runs.slice(started).find(r => r[1] === 'notRunning');
    return ended === undefined ? null : ended[0];
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """Serve the app (``app/serve.py``, as ``make demo`` does) on a free loopback port with
    ``env``; yield its base URL; stop it."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(SERVE),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.runOnSave",
                "false",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"streamlit did not start:\n{log.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def settle(page: Any, timeout: float = 120_000) -> None:
    """Wait until the script run finished and the page stopped changing."""
    page.wait_for_timeout(250)
    page.wait_for_selector(
        "[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout
    )
    # Elements of the finished run can still show their loading placeholders for a moment
    # on a busy machine: wait until none is left.
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=stSkeleton]').length === 0",
        timeout=timeout,
    )
    page.wait_for_timeout(250)


#: A laptop's width (1366 px), as the users' screenshots are looked at; tall, since Streamlit
#: scrolls inside its own container and a full-page screenshot stops at the window's height.
LAPTOP = {"width": 1366, "height": 1800}


def open_page(
    browser: Any,
    url: str,
    *,
    outside: list[str] | None = None,
    viewport: dict[str, int] | None = None,
) -> tuple[Any, float]:
    """Open ``url`` in a new session (``viewport`` default 1400×1800 px); return the page and
    the seconds until its first run ended. Requests to any other origin are appended to
    ``outside``."""
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 1800})
    base = url.split("/", 3)[:3]
    origin = "/".join(base)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    if outside is not None:
        page.on(
            "request",
            lambda req: (
                outside.append(req.url)
                if not req.url.startswith((origin, "data:", "blob:"))
                else None
            ),
        )
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("h1", timeout=120_000)
    page.wait_for_selector(
        "[data-testid=stApp][data-test-script-state=notRunning]", timeout=120_000
    )
    seconds = time.perf_counter() - t
    page.wait_for_timeout(250)
    return page, seconds


def timed(page: Any, action: Callable[[], Any], timeout: float = 120.0) -> float:
    """Seconds from sending ``action`` until the run it starts has ended and was drawn."""
    t0 = page.evaluate(_OBSERVE)
    action()
    deadline = time.monotonic() + timeout
    while True:
        ended = page.evaluate(_ENDED, t0)
        if ended is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the interaction started no script run that ended in time")
        page.wait_for_timeout(20)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
    drawn = page.evaluate("() => performance.now()")
    return max(float(ended), float(drawn)) / 1000 - float(t0) / 1000


_LAST_ENDED = """([t0, quiet]) => {
    const runs = window.__runs || [];
    const now = performance.now();
    const last = runs[runs.length - 1];
    if (runs.findIndex(r => r[0] >= t0 && r[1] === 'running') < 0) return null;
    if (last[1] !== 'notRunning' || now - last[0] < quiet) return null;
    return last[0];
}"""


def timed_settled(
    page: Any, action: Callable[[], Any], *, quiet: float = 0.4, timeout: float = 120.0
) -> float:
    """Seconds from sending ``action`` until the last script run it caused has ended and was
    drawn: the end of a run after which none started for ``quiet`` seconds (a key held down
    starts runs that each newer value interrupts; only the last one shows the last value)."""
    t0 = page.evaluate(_OBSERVE)
    action()
    deadline = time.monotonic() + timeout
    while True:
        ended = page.evaluate(_LAST_ENDED, [t0, quiet * 1000])
        if ended is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the interaction's script runs did not end in time")
        page.wait_for_timeout(20)
    return float(ended) / 1000 - float(t0) / 1000


def slider_thumb(page: Any, label: str, index: int = 0) -> Any:
    """The range input of the slider labelled ``label`` (index 0: the lower end); ``focus()``
    it to move it with the keyboard, read its ``value`` attribute."""
    slider = page.get_by_test_id("stSlider").filter(has=page.get_by_text(label, exact=True)).first
    return slider.locator("input[type=range]").nth(index)
