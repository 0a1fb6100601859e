"""Streamlit app timings on the demo data (the default-seed, full-scale simulated history).

Uses the registry and model of ``make demo`` when present (``var/triage.db``,
``models/default``); otherwise builds them once in a temporary folder (about a minute). Like
``triage demo prepare``, it makes sure the precomputed first page (``var/cache/first-page.json``)
is current before measuring. Each page runs headless through Streamlit's AppTest, in a fresh
process so the first load is really cold (no Streamlit cache, no model parsed, no SHAP
imported). Targets: first page load under 3 s, a Targets slider change under 1 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import environ

ROOT = Path(__file__).resolve().parents[1]

_PROBE = r"""
import json, os, statistics, sys, time
from streamlit.testing.v1 import AppTest
app = sys.argv[1]
out = []
def session(page=None, role="staff"):
    at = AppTest.from_file(app, default_timeout=600)
    at.query_params["as"] = role
    t = time.perf_counter(); at.run()
    if page:
        at.switch_page(f"views/{page}.py"); t = time.perf_counter(); at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at, time.perf_counter() - t
_, cold = session()
out.append(("app: first Queue load, cold process (every cache empty)", cold, "target < 3 s"))
_, warm = session()
out.append(("app: Queue load, new session, warm caches", warm, ""))
for page in ("case", "targets", "selection", "monitoring", "audit"):
    _, t = session(page)
    out.append((f"app: {page} page, warm caches", t, ""))
at, _ = session("targets", role="mandate_holder")
times = []
for floor in (30, 35, 40, 45, 50):
    slider = at.slider(key="t_band__gender__woman").set_value((floor, 100))
    t = time.perf_counter(); slider.run(); times.append(time.perf_counter() - t)
    assert not at.exception, [e.value for e in at.exception]
out.append(("app: Targets slider change, re-solve and redraw (median of 5)", statistics.median(times), "target < 1 s"))
print("BENCH" + json.dumps(out))
"""


def _demo_env() -> tuple[dict[str, str], str]:
    """Environment variables pointing at prepared demo data, and a note saying which."""
    from triage.config import db_url, models_dir, var_dir

    prepared = (var_dir() / "triage.db").exists() and (models_dir() / "default").is_dir()
    if prepared and not os.environ.get("TRIAGE_DB_URL"):
        return {"TRIAGE_OPEN_DEMO": "1"}, f"demo registry {db_url()}"
    from triage.config import DEFAULT_SEED
    from triage.registry import Registry
    from triage.schema import read_history
    from triage.scoring import train
    from triage.synth import generate

    root = Path(tempfile.mkdtemp(prefix="triage-bench-app-"))
    history = root / "var" / "history"
    generate(history, seed=DEFAULT_SEED)
    url = f"sqlite:///{root / 'var' / 'triage.db'}"
    registry = Registry(url).init()
    registry.load_history(history)
    registry.dispose()
    train(read_history(history), out_dir=root / "models" / "default", seed=0)
    env = {
        "TRIAGE_VAR": str(root / "var"),
        "TRIAGE_DB_URL": url,
        "TRIAGE_MODELS": str(root / "models"),
        "TRIAGE_OPEN_DEMO": "1",
    }
    return env, f"default seed, full scale, built in {root}"


def _precompute_first_page(env: dict[str, str]) -> str:
    """What ``triage demo prepare`` does last: store the first page and the Case page's views
    unless they are current."""
    with environ(env):
        from triage.cli._demo import _case_views, _first_page
        from triage.config import db_url, models_dir
        from triage.registry import Registry

        registry = Registry(db_url())
        _first_page(registry, models_dir() / "default")
        _case_views(registry, models_dir() / "default")
        registry.dispose()
    return "first page and case views precomputed"


def run() -> list[tuple[str, float, str]]:
    env, note = _demo_env()
    note = f"{note}; {_precompute_first_page(env)}"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT / "app" / "streamlit_app.py")],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH")), None)
    if line is None:
        raise RuntimeError(
            f"the app benchmark failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return [
        (what, float(seconds), f"{target} ({note})".strip())
        for what, seconds, target in json.loads(line[5:])
    ]


if __name__ == "__main__":
    for what, seconds, extra in run():
        print(f"{what:<64} {seconds:8.3f} s  {extra}")
