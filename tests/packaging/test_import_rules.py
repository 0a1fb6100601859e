"""The import rules of docs/architecture.md, checked on every module under ``triage/``.

Only ``triage/allocate`` imports PuLP or highspy; only ``triage/scoring`` and ``triage/explain``
import LightGBM or SHAP; nothing under ``triage/`` imports Streamlit or Altair (the ``app``
extra). Every import counts: at module level or inside a function, ``import x``, ``from x import
y`` and ``importlib.import_module("x")`` / ``__import__("x")`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "triage"

#: library -> the sub-packages of triage allowed to import it (empty: none may).
RULES: dict[str, tuple[str, ...]] = {
    "pulp": ("allocate",),
    "highspy": ("allocate",),
    "lightgbm": ("scoring", "explain"),
    "shap": ("scoring", "explain"),
    "streamlit": (),
    "altair": (),
}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Return (line, top-level module name) for every absolute import in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in {"import_module", "__import__"} and literal:
                found.append((node.lineno, str(first.value).split(".")[0]))
    return found


def violations(package: Path) -> list[str]:
    """Return one line per import of ``package``'s modules that breaks :data:`RULES`."""
    out: list[str] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        area = relative.parts[0] if len(relative.parts) > 1 else ""
        for line, module in imported_modules(path.read_text(encoding="utf-8")):
            allowed = RULES.get(module)
            if allowed is not None and area not in allowed:
                where = ", ".join(f"triage/{a}" for a in allowed) or "no module of triage/"
                out.append(f"triage/{relative}:{line} imports {module} (only {where} may)")
    return out


def test_every_module_of_triage_keeps_the_import_rules() -> None:
    assert list(PACKAGE.rglob("*.py")), "no module found: the test would check nothing"
    assert violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("area", "source", "library"),
    [
        ("features", "import pulp\n", "pulp"),
        ("scoring", "def f():\n    from highspy import Highs\n", "highspy"),
        ("allocate", "import lightgbm as lgb\n", "lightgbm"),
        ("audit", "from shap import TreeExplainer\n", "shap"),
        ("explain", "import streamlit as st\n", "streamlit"),
        ("", "import importlib\nimportlib.import_module('altair.vegalite')\n", "altair"),
        ("monitor", "__import__('streamlit')\n", "streamlit"),
    ],
)
def test_a_forbidden_import_is_reported(
    tmp_path: Path, area: str, source: str, library: str
) -> None:
    folder = tmp_path / "triage" / area
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_bad.py").write_text(source, encoding="utf-8")
    (found,) = violations(tmp_path / "triage")
    assert found.startswith(f"triage/{area + '/' if area else ''}_bad.py:")
    assert f"imports {library}" in found


@pytest.mark.parametrize(
    ("area", "source"),
    [
        ("allocate", "import pulp\nimport highspy\n"),
        ("scoring", "import lightgbm\nimport shap\n"),
        ("explain", "from shap import TreeExplainer\n"),
        ("features", "import pandas\nfrom . import _x\nfrom .pulp import y\n"),
    ],
)
def test_an_allowed_import_is_not_reported(tmp_path: Path, area: str, source: str) -> None:
    folder = tmp_path / "triage" / area
    folder.mkdir(parents=True)
    (folder / "_ok.py").write_text(source, encoding="utf-8")
    assert violations(tmp_path / "triage") == []
