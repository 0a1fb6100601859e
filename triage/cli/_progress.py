"""A rich progress bar for long work, handed to logic functions as a plain callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from triage.cli._app import err_console

__all__ = ["ProgressCallback", "progress_bar"]

#: ``callback(done, total, what)``: logic modules report progress through this, never print.
ProgressCallback = Callable[[int, int, str], None]


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """Show a progress bar on stderr while the block runs; yield the callback to feed it."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[what]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=None, what="")

        def update(done: int, total: int, what: str = "") -> None:
            progress.update(task, completed=done, total=total, what=what)

        yield update
