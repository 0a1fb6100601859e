"""``triage demo prepare``: make the embedded default ready for the app.

Builds the default-seed simulated history if it is missing and loads it into the default
registry if that is empty. Safe to run again: it does nothing when both are in place.
"""

from __future__ import annotations

import typer

from triage.cli._app import app, console

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

    if not (models_dir() / "default").is_dir():
        console.print(
            "[yellow]warning:[/] models/default is missing; train it with "
            f"`triage train --data {history} --out {models_dir() / 'default'}`."
        )
    console.print("ready: this demo runs on SIMULATED data, not on real cases.")
