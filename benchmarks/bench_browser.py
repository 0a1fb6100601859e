"""App timings in a real browser: the served demo app driven in Debian's Chromium.

Serves ``app/streamlit_app.py`` on a private copy of the demo registry (recording a run writes
to it) and times what each user waits for, from the key press or click until the script run
it starts has ended and the browser drew the result (``benchmarks/browser.py``). Targets:
every Targets interaction and a new case on the Case page under 1 s, recording a run under
5 s. Skipped (with a note) when ``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import environ
from benchmarks.bench_app import _demo_env, _precompute_first_page
from benchmarks.browser import (
    CHROMIUM,
    chromium,
    open_page,
    served,
    settle,
    slider_thumb,
    timed,
    timed_settled,
)


def _private_copy(env: dict[str, str]) -> dict[str, str]:
    """The demo registry and first-page cache copied to a temporary var/ (runs write to it)."""
    from triage.config import db_url, var_dir

    with environ(env):
        source_var, url = var_dir(), db_url()
    if not url.startswith("sqlite:///"):
        raise RuntimeError(f"the browser bench copies a SQLite registry; got {url}")
    root = Path(tempfile.mkdtemp(prefix="triage-bench-browser-"))
    var = root / "var"
    var.mkdir()
    shutil.copy2(url.removeprefix("sqlite:///"), var / "triage.db")
    if (source_var / "cache").is_dir():
        shutil.copytree(source_var / "cache", var / "cache")
    return {**env, "TRIAGE_VAR": str(var), "TRIAGE_DB_URL": f"sqlite:///{var / 'triage.db'}"}


def run() -> list[tuple[str, float, str]]:
    if not CHROMIUM.exists():
        return [("browser: skipped, /usr/bin/chromium missing", 0.0, "apt-get install chromium")]
    env, note = _demo_env()
    note = f"{note}; {_precompute_first_page(env)}"
    env = _private_copy(env)
    out = _Rows()
    log = Path(tempfile.mkdtemp(prefix="triage-bench-log-")) / "server.log"
    with served(env, log) as base, chromium() as browser:
        t = time.perf_counter()
        page, cold = open_page(browser, f"{base}/queue?as=staff")
        page.wait_for_selector("[data-testid=stDataFrame]", timeout=120_000)
        drawn = time.perf_counter() - t
        out.append(("browser: first Queue load, new server (cold caches)", cold, "target < 3 s"))
        # The run ends before the browser has drawn the table (its grid's script loads then).
        out.append(("browser: first Queue load, until the table is drawn", drawn, ""))
        page.close()
        # The warm-up thread (model, SHAP import, reasons, the queue's SHAP and what-if tables)
        # finishes in the background after the first page; a person reads the queue meanwhile.
        time.sleep(20)
        page, warm = open_page(browser, f"{base}/queue?as=staff")
        out.append(("browser: Queue load, new session, warm caches", warm, ""))
        page.close()

        page, first = open_page(browser, f"{base}/case?as=staff")
        out.append(("browser: Case page, new session", first, ""))
        select = page.get_by_test_id("stSelectbox").filter(has_text="Case").first
        times = []
        for _ in range(5):
            select.click()
            page.keyboard.press("ArrowDown")
            times.append(timed(page, lambda: page.keyboard.press("Enter")))
            settle(page)
        out.append(
            (
                "browser: Case page, another case (median of 5)",
                statistics.median(times),
                "target < 1 s",
            )
        )
        page.close()

        page, _ = open_page(browser, f"{base}/targets?as=mandate_holder")
        page.wait_for_timeout(3000)
        settle(page)
        for label, name in (("Woman", "band"), ("Capacity: cases to take up", "capacity")):
            thumb = slider_thumb(page, label)
            times = []
            for _ in range(5):
                # A person reads the new numbers and their prices, then moves the slider again.
                page.wait_for_selector("text=What each target costs", timeout=120_000)
                settle(page)
                thumb.focus()
                before = thumb.get_attribute("value")
                # Towards the middle, so a press always changes the value.
                low, high = float(thumb.get_attribute("min")), float(thumb.get_attribute("max"))
                key = "ArrowRight" if float(before or 0) < (low + high) / 2 else "ArrowLeft"
                try:
                    times.append(timed(page, lambda k=key: page.keyboard.press(k), timeout=30))
                except TimeoutError:
                    after = thumb.get_attribute("value")
                    print(f"  ({name}: no run seen in 30 s; the slider went {before} -> {after})")
                settle(page)
            if not times:
                continue
            out.append(
                (
                    f"browser: Targets {name} change, new numbers (median of {len(times)})",
                    statistics.median(times),
                    "target < 1 s",
                )
            )
            out.append(
                (
                    f"browser: Targets {name} change, slowest of {len(times)}",
                    max(times),
                    "target < 1 s",
                )
            )
        t = time.perf_counter()
        page.wait_for_selector("text=What each target costs", timeout=60_000)
        out.append(
            (
                "browser: Targets prices after the last change (extra wait)",
                time.perf_counter() - t,
                "shown after the numbers",
            )
        )
        # A key held down: ten presses as fast as the browser sends them. Timed from the last
        # press until the last run it caused ended (runs of earlier values are interrupted).
        thumb = slider_thumb(page, "Woman")
        thumb.focus()
        for _ in range(9):
            page.keyboard.press("ArrowRight")
        held = timed_settled(page, lambda: page.keyboard.press("ArrowRight"))
        settle(page)
        out.append(("browser: Targets band, ten quick presses, after the last", held, "< 1 s"))
        page.close()

        page, _ = open_page(browser, f"{base}/selection?as=staff")
        button = page.get_by_role("button", name="Record selection run")
        t = time.perf_counter()
        button.click()
        page.wait_for_selector("text=Recorded run-", timeout=300_000)
        settle(page)
        out.append(
            (
                "browser: Record selection run, click to confirmation",
                time.perf_counter() - t,
                "target < 5 s",
            )
        )
        page.close()
        page, after = open_page(browser, f"{base}/queue?as=staff")
        out.append(("browser: Queue load after a recorded run", after, ""))
        page.close()
    return [(what, seconds, f"{target} ({note})".strip()) for what, seconds, target in out]


class _Rows(list[tuple[str, float, str]]):
    """The measured rows, each also printed as soon as it is measured (a long run shows
    progress, and a failure later keeps what was measured)."""

    def append(self, row: tuple[str, float, str]) -> None:
        print(f"  {row[0]:<62} {row[1]:8.3f} s", flush=True)
        super().append(row)


if __name__ == "__main__":
    for what, seconds, extra in run():
        print(f"{what:<64} {seconds:8.3f} s  {extra}")
