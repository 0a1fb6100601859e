"""Synthesis test helpers shared by the supplement and counterfactual tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["assert_same_files"]


def assert_same_files(a: Path, b: Path, files: Mapping[str, Sequence[str]]) -> None:
    """Assert each ``{name}.csv`` of ``files`` is byte-identical in folders ``a`` and ``b``
    and that its header row lists exactly the given columns, in order."""
    for name, columns in files.items():
        text = (a / f"{name}.csv").read_bytes()
        assert text == (b / f"{name}.csv").read_bytes(), name
        assert text.decode().splitlines()[0] == ",".join(columns)
