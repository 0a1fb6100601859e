"""``triage demo prepare``: make the embedded default ready for the app.

Builds the default-seed simulated history if it is missing, loads it into the default
registry if that is empty, and precomputes the app's first page (queue scores, SHAP reasons,
the default policy's decisions) into ``var/cache/first-page.json`` and the Case page's views
(every incoming case's SHAP table and what-if scores) into ``var/cache/case-views/`` when they
are missing or stale.
Safe to run again: it does nothing when all three are in place and current.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from triage.cli._app import app, console

if TYPE_CHECKING:
    from triage.registry import Registry

demo_app = typer.Typer(help="Prepare the embedded demo (SQLite registry, simulated history).")
app.add_typer(demo_app, name="demo")

_HISTORY_FILES = ("communications.csv", "cases.csv", "outcomes.csv", "queue.csv", "truth.csv")


@demo_app.command("prepare")
def prepare(
    seed: int = typer.Option(
        None, help="Seed of the simulated history (default: the bundled seed)."
    ),
) -> None:
    """Generate the simulated history and load the registry, each only if missing."""
    from triage.cli._progress import progress_bar
    from triage.config import DEFAULT_SEED, db_url, default_history_dir, models_dir
    from triage.registry import Registry
    from triage.synth import generate

    history = default_history_dir()
    if not all((history / name).exists() for name in _HISTORY_FILES):
        history.mkdir(parents=True, exist_ok=True)
        with progress_bar("Simulating the history (seeded, simulated data)") as update:
            generate(history, seed=DEFAULT_SEED if seed is None else seed, on_progress=update)
        console.print(f"simulated history written to {history}")
    else:
        console.print(f"simulated history found in {history}")

    registry = Registry(db_url())
    registry.init()
    if registry.is_empty():
        with progress_bar("Loading the registry") as update:
            summary = registry.load_history(history, on_progress=update)
        console.print(f"registry loaded: {summary}")
    else:
        console.print("registry already loaded")

    model_dir = models_dir() / "default"
    if not model_dir.is_dir():
        console.print(
            "[yellow]warning:[/] models/default is missing; train it with "
            f"`triage train --data {history} --out {model_dir}`."
        )
    else:
        _first_page(registry, model_dir)
        _case_views(registry, model_dir)
    from triage.audit._signing import load_signing_key, secure_tree

    load_signing_key()  # var/keys/audit_ed25519.pem, 0600, created on first use
    secure_tree()  # var/ 0700; the registry, keys, users file and history 0600
    console.print("ready: this demo runs on SIMULATED data, not on real cases.")


def _first_page(registry: Registry, model_dir: Path) -> None:
    """Precompute the app's first Queue page unless a current copy is already stored."""
    from triage.allocate import load_policy
    from triage.cli._progress import progress_bar
    from triage.config import policies_dir
    from triage.monitor import build_first_page, current_key, read_first_page, write_first_page

    policy_path = policies_dir() / "default.toml"
    key, _ = current_key(registry, model_dir=model_dir)
    stored = read_first_page(key=key)
    if stored is not None and stored.selection_for(load_policy(policy_path).sha256) is not None:
        console.print("app first page already precomputed (model, registry and policy unchanged)")
        return
    with progress_bar("Precomputing the app's first page") as update:
        page = build_first_page(
            registry,
            model_dir=model_dir,
            policy_path=policy_path,
            on_progress=update,
        )
    path = write_first_page(page)
    console.print(f"app first page precomputed: {len(page.scores)} cases scored, in {path}")


def _case_views(registry: Registry, model_dir: Path) -> None:
    """Precompute the Case page's views (every case's SHAP table and what-if scores)."""
    from triage.cli._progress import progress_bar
    from triage.monitor import build_case_views, case_views_key, read_case_views, write_case_views

    if read_case_views(key=case_views_key(registry, model_dir=model_dir)) is not None:
        console.print("app case views already precomputed (model and registry unchanged)")
        return
    with progress_bar("Precomputing the Case page (SHAP and what-if)") as update:
        views = build_case_views(registry, model_dir=model_dir, on_progress=update)
    path = write_case_views(views)
    console.print(
        f"app case views precomputed: {views.what_if['case_id'].nunique()} cases, in {path}"
    )
