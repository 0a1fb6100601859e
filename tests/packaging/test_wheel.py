"""A wheel of triage, installed into a fresh virtual environment, works from another folder.

The wheel is built from a copy of the source tree (nothing is written into the checkout) and
installed without its dependencies into a new venv; the dependencies come from the test's own
environment through a ``.pth`` line (only its ``site-packages``, never the checkout or an
editable install of it), so the test needs no network. The installed ``triage`` command then
generates a history, checks it against the paper, scores its queue with the shipped model and
selects with the shipped policy, all in a folder that is not the repository.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: What the wheel is built from: the project's metadata, build script, package and its data.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "triage", "data", "models", "policies")


def _build_wheel(dest: Path) -> Path:
    """Copy the sources to ``dest/src`` and build one wheel into ``dest/dist``."""
    src = dest / "src"
    src.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "fixtures")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest / "dist")]
    # Offline when this environment can build (the lock installs setuptools and wheel); else pip
    # fetches the build backend into an isolated environment.
    if importlib.util.find_spec("wheel") is not None:
        command.append("--no-build-isolation")
    subprocess.run(
        [*command, str(src)], check=True, capture_output=True, timeout=600, env=_clean_env()
    )
    (wheel,) = (dest / "dist").glob("triage-*.whl")
    return wheel


def _fresh_venv(dest: Path, wheel: Path) -> Path:
    """Create a venv at ``dest``, install ``wheel`` without dependencies; return its bin/."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True, timeout=300
    )
    python = dest / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    # Without PYTHONPATH: a checkout on it (with its triage.egg-info) would read as installed.
    subprocess.run(
        [*pip, "--no-deps", "--no-index", str(wheel)],
        env=_clean_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies: this environment's site-packages, appended after the venv's own (so the
    # installed triage wins); a plain path line in a .pth does not run the editable finder.
    lines = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_triage_test_deps.pth").write_text("\n".join(lines) + "\n")
    return dest / "bin"


def _clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH and TRIAGE_* (the defaults are what is tested)."""
    return {
        k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("TRIAGE_")
    }


def _triage(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(bin_dir / "triage"), *args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"triage {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_generates_calibrates_scores_and_selects_from_another_folder(
    tmp_path: Path,
) -> None:
    wheel = _build_wheel(tmp_path / "build")
    bin_dir = _fresh_venv(tmp_path / "venv", wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()

    where = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import triage, triage.config as c; "
            "print(triage.__file__); print(c.models_dir()); print(c.policies_dir()); "
            "print(c.data_dir()); print(c.var_dir())",
        ],
        cwd=work,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    venv = str(tmp_path / "venv")
    assert all(line.startswith(venv) for line in where[:4]), where
    assert where[4] == str(work / "var")

    _triage(bin_dir, work, "generate", "--out", "history")
    calibration = _triage(bin_dir, work, "calibration", "--data", "history")
    assert "all 125 figures within tolerance" in calibration.stdout.replace("\n", " ")

    _triage(
        bin_dir,
        work,
        "score",
        "--cases",
        "history/queue.csv",
        "--out",
        "scored.csv",
        "--data",
        "history",
    )
    with (work / "scored.csv").open(encoding="utf-8") as fh:
        scores = {row["case_id"]: row["score"] for row in csv.DictReader(fh)}
    with (work / "history" / "queue.csv").open(encoding="utf-8") as fh:
        queue = list(csv.DictReader(fh))
    assert len(scores) == len(queue) > 0
    columns = ["case_id", "score", "country", "un_region", "gender", "violations"]
    with (work / "candidates.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**row, "score": scores[row["case_id"]]} for row in queue)

    selection = json.loads(
        _triage(bin_dir, work, "select", "--candidates", "candidates.csv", "--json").stdout
    )
    assert selection["status"] == "optimal"
    assert len(selection["selected"]) == min(550, len(queue))

    _triage(bin_dir, work, "db", "init")
    assert (work / "var" / "triage.db").is_file()
