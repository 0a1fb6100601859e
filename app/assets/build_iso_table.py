"""Build ``world_ids.csv``: the key of each shape in ``countries-110m.json`` and its ISO3 code.

``countries-110m.json`` comes from the npm package ``world-atlas`` 2.0.2 (ISC licence, see
``world-atlas-LICENSE.txt``), fetched with ``npm pack world-atlas@2``. Its shapes carry ISO 3166-1
numeric ids; three have none (Natural Earth lists them as disputed), so they are keyed by name.
Run from the repository root: ``.venv/bin/python app/assets/build_iso_table.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pycountry

HERE = Path(__file__).parent
# Shapes without a numeric id: Kosovo has a user-assigned ISO3 code, the other two belong to the
# state that the UN recognises.
_BY_NAME = {"Kosovo": "XKX", "N. Cyprus": "CYP", "Somaliland": "SOM"}


def main() -> None:
    topo = json.loads((HERE / "countries-110m.json").read_text(encoding="utf-8"))
    rows = []
    for geometry in topo["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        if "id" in geometry:
            country = pycountry.countries.get(numeric=geometry["id"])
            if country is None:
                raise SystemExit(f"no ISO3 code for numeric id {geometry['id']} ({name})")
            rows.append((geometry["id"], country.alpha_3, name))
        else:
            rows.append((name, _BY_NAME[name], name))
    rows.sort()
    with (HERE / "world_ids.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["shape_key", "iso3", "shape_name"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
