"""Check output paths before a command reads, computes or writes anything."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from triage.errors import TriageError

__all__ = ["check_output_file"]


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_file(path: Path, *, option: str, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output file that would overwrite an input, is a folder or cannot be written.

    Raises
    ------
    TriageError
        One line naming the option and the reason; nothing has been written yet.
    """
    for source in inputs:
        if _same(path, source) or path.resolve() == source.resolve():
            raise TriageError(
                f"{option} {path}: is the input file itself; choose another file for the output."
            )
    if path.is_dir():
        raise TriageError(f"{option} {path}: is a folder; give a file name (e.g. {path}/out.csv).")
    if path.exists() and not path.is_file():
        raise TriageError(f"{option} {path}: is not a regular file; give a file name.")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        # Prove the folder takes a new file (permissions, read-only or pseudo file systems).
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".triage-check-"):
            pass
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(13, "permission denied")
    except OSError as exc:
        raise TriageError(
            f"{option} {path}: cannot be written ({exc.strerror or type(exc).__name__})."
        ) from exc
