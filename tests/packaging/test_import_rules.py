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


#: The ways a module can import a library, each checked against every rule.
IMPORT_FORMS = (
    "import {lib}\n",
    "import {lib}.sub as alias\n",
    "from {lib} import thing\n",
    "def f():\n    from {lib}.sub import thing\n",
    "import importlib\nimportlib.import_module('{lib}.sub')\n",
    "__import__('{lib}')\n",
)
#: Every (library, area of triage) pair the rules forbid, and every pair they allow.
FORBIDDEN = [
    (lib, area)
    for lib, allowed in RULES.items()
    for area in ("", "features", "allocate", "scoring", "explain", "monitor")
    if area not in allowed
]
ALLOWED = [(lib, area) for lib, allowed in RULES.items() for area in allowed]


def _write(root: Path, area: str, source: str) -> Path:
    folder = root / "triage" / area
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_mod.py").write_text(source, encoding="utf-8")
    return root / "triage"


@pytest.mark.parametrize(("library", "area"), FORBIDDEN)
@pytest.mark.parametrize("form", IMPORT_FORMS)
def test_a_forbidden_import_is_reported(tmp_path: Path, library: str, area: str, form: str) -> None:
    package = _write(tmp_path, area, form.format(lib=library))
    (found,) = violations(package)
    assert found.startswith(f"triage/{area + '/' if area else ''}_mod.py:")
    assert f"imports {library} " in found


@pytest.mark.parametrize(("library", "area"), ALLOWED)
@pytest.mark.parametrize("form", IMPORT_FORMS)
def test_an_allowed_import_is_not_reported(
    tmp_path: Path, library: str, area: str, form: str
) -> None:
    assert violations(_write(tmp_path, area, form.format(lib=library))) == []


def test_relative_and_other_imports_are_not_reported(tmp_path: Path) -> None:
    source = "import pandas\nfrom . import pulp\nfrom .shap import y\nimport pulpish\n"
    assert violations(_write(tmp_path, "features", source)) == []
