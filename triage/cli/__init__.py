"""The ``triage`` command line. ``console_script`` is the console-script entry point; ``main``
runs a command in-process (and raises ``SystemExit``), for tests and embedding."""

from triage.cli import (  # noqa: F401  (each module registers its commands on ``app``)
    _allocate,
    _audit,
    _demo,
    _evaluate,
    _followup,
    _registry,
    _scoring,
    _synth,
)
from triage.cli._app import app, console_script, main

__all__ = ["app", "console_script", "main"]
