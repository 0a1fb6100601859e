"""The ``triage`` command line. ``main`` is the console-script entry point."""

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
from triage.cli._app import app, main

__all__ = ["app", "main"]
