"""Which packages and files the wheel holds (the project's metadata is in pyproject.toml).

The repository keeps ``data/``, ``models/`` and ``policies/`` at its root, where developers, the
docs and the model card point. The wheel ships what triage reads from them at run time as package
data under ``triage/_bundled/``, where :mod:`triage.config` finds it through
:mod:`importlib.resources`; a source checkout reads the root folders themselves.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

BUNDLED = {
    "triage._bundled.data": ("data", ["countries.csv", "calibration_targets.csv", "README.md"]),
    "triage._bundled.models": ("models", ["seeds.json", "default/*"]),
    "triage._bundled.policies": ("policies", ["*.toml", "README.md"]),
}


class BuildPy(build_py):
    """Copy only the listed files of the bundled folders (data/ also holds a maintainer's script)."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        if package in BUNDLED:
            return []
        return super().find_package_modules(package, package_dir)


setup(
    cmdclass={"build_py": BuildPy},
    packages=[*find_packages(include=["triage", "triage.*"]), *BUNDLED],
    package_dir={name: folder for name, (folder, _) in BUNDLED.items()},
    package_data={
        **{name: files for name, (_, files) in BUNDLED.items()},
        "triage.synth": ["country_weights.csv"],  # calibration inputs read beside their module
    },
)
