"""The ``triage`` console script: one typer app, commands registered by the ``_*.py`` modules.

Command modules import heavy libraries (pandas, LightGBM, SHAP, PuLP, SQLAlchemy) inside the
command functions, never at module level, so that ``triage select --candidates ...`` starts fast
and ``--help`` is instant.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from triage.config import mask_url
from triage.errors import TriageError

__all__ = ["app", "console", "console_script", "err_console", "main"]

app = typer.Typer(
    name="triage",
    help=(
        "Decision support for the UN Special Rapporteur on human rights defenders: "
        "score, allocate, show and remember individual cases."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

console = Console()
err_console = Console(stderr=True)


# Recent typer versions vendor click as ``typer._click``; older ones use click itself.
def _exception_types(name: str) -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for module in ("typer._click.exceptions", "typer.exceptions", "click.exceptions"):
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and cls not in found:
            found.append(cls)
    return tuple(found)


_ABORTS = _exception_types("Abort")
_CLICK_ERRORS = _exception_types("ClickException")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn every error into one readable line and an exit code, never a traceback."""
    import triage.cli  # noqa: F401  (registers every command module)

    try:
        code = app(args=argv, standalone_mode=False, prog_name="triage")
    except _ABORTS:
        err_console.print("aborted.")
        sys.exit(130)
    except _CLICK_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except TriageError as exc:
        # Messages quote user data and constraint names like share_min[gender=woman]: no markup.
        # A URL's password is never printed, whatever put it in the message.
        err_console.print(
            f"[bold red]error:[/] {escape(mask_url(exc.message))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted.")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("TRIAGE_DEBUG"):
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(mask_url(str(exc)))}\n"
            "This is a bug in triage. Set TRIAGE_DEBUG=1 to see the details and report it.",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def console_script() -> NoReturn:
    """The ``triage`` command: :func:`main`, then exit without tearing the interpreter down.

    When a command returns, its transaction has committed and its files are closed. What is
    left is Python's finalisation of every module a run imports (pandas, scikit-learn,
    LightGBM, SciPy, SQLAlchemy): 0.4 to 0.7 s of every ``triage select``. The exit handlers
    still run (logging flushes, thread pools join, a benchmark's figures are written) and the
    standard streams are flushed before the process ends with the command's exit code.
    """
    try:
        main(sys.argv[1:])
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            sys.stderr.write(f"{exc.code}\n")
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # output that could not be written (a closed pipe) is a failure
    os._exit(code)


@app.callback()
def _root() -> None:
    """Score, allocate, show and remember individual cases of human rights defenders."""


@app.command()
def version() -> None:
    """Print the installed version of triage."""
    from triage import __version__

    console.print(f"triage {__version__}")
