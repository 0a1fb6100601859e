"""Print pip constraints pinning every dependency of triage to its floor (its ``>=`` bound).

``python .ci/floors.py [EXTRA ...] > floors.txt`` reads pyproject.toml: the core dependencies and
those of the named extras (default ``app``). ``make floors`` installs them with ``pip install -c
floors.txt`` into a separate venv and runs a quick subset of the tests, so that the floors
pyproject.toml states are ones triage really works with.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?P<spec>[^;]*)"
)
_FLOOR = re.compile(r">=\s*(?P<version>[0-9][^,\s]*)")


def floors(extras: list[str]) -> list[str]:
    """Return ``name==floor`` for every requirement with a ``>=`` bound, sorted by name."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        raise SystemExit(f"unknown extra(s): {', '.join(unknown)}; known: {', '.join(optional)}")
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += optional[extra]
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        floor = _FLOOR.search(match["spec"]) if match else None
        if match and floor:
            pins[match["name"].lower()] = f"{match['name']}=={floor['version']}"
    return [pins[name] for name in sorted(pins)]


if __name__ == "__main__":
    print("\n".join(floors(sys.argv[1:] or ["app"])))
