"""Altair chart builders shared by the pages: same colours per group, axes labelled with units.

Maps draw the world from ``app/assets/countries-110m.json`` embedded in the chart itself, so
they render offline (no CDN, no tile server).
"""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import altair as alt
import pandas as pd
from _ui import NEUTRAL, colour_scale

from triage.schema import countries

__all__ = [
    "MAP_ISO3",
    "percent",
    "share_bars",
    "waterfall",
    "world_map",
]

ASSETS = Path(__file__).parent / "assets"


def percent(channel: Literal["x", "y"], field: str, title: str, **options: Any) -> Any:
    """An Altair x or y encoding of ``field`` (a share, 0–1) on a percentage axis."""
    encoding = alt.X if channel == "x" else alt.Y
    return encoding(field, title=title, axis=alt.Axis(format="%"), **options)


@lru_cache(maxsize=1)
def _shape_iso3() -> dict[str, str]:
    with (ASSETS / "world_ids.csv").open(encoding="utf-8") as fh:
        return {row["shape_key"]: row["iso3"] for row in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def _world_topology() -> dict[str, Any]:
    """The world-atlas 110m TopoJSON with each shape's id rewritten to its ISO3 code."""
    topo = json.loads((ASSETS / "countries-110m.json").read_text(encoding="utf-8"))
    iso = _shape_iso3()
    geometries = []
    for geometry in topo["objects"]["countries"]["geometries"]:
        key = geometry.get("id", geometry["properties"]["name"])
        if iso[key] == "ATA":  # Antarctica: no state to address, only takes space
            continue
        geometries.append({**geometry, "id": iso[key]})
    return {
        **topo,
        "objects": {"countries": {"type": "GeometryCollection", "geometries": geometries}},
    }


#: ISO3 codes drawn on the map; smaller states are listed under each map instead.
MAP_ISO3: frozenset[str] = frozenset(_shape_iso3().values())


def world_map(
    frame: pd.DataFrame,
    *,
    value: str,
    title: str,
    legend: str,
    tooltip: list[alt.Tooltip],
    scale: alt.Scale,
    legend_format: str = "",
    height: int = 380,
    kind: str = "Q",
) -> alt.LayerChart:
    """A choropleth of ``frame`` (one row per ``country`` ISO3) on an offline world map.

    Countries without a row are grey, as in the paper's maps. ``tooltip`` fields must be
    columns of ``frame`` (they are looked up per shape). ``kind`` is the Vega-Lite type of
    ``value``: "Q" for a number, "O" for ordered classes (then ``scale`` gives their domain).
    """
    data = frame.copy()
    data["country_name"] = data["country"].map(
        lambda c: countries()[c].name if c in countries() else c
    )
    fields = sorted({value, "country_name", *[t.to_dict()["field"] for t in tooltip]})
    world = alt.InlineData(
        values=_world_topology(), format=alt.DataFormat(type="topojson", feature="countries")
    )
    base = (
        alt.Chart(world)
        .mark_geoshape(fill="#e0e0e0", stroke="white", strokeWidth=0.4)
        .project(type="equalEarth")
    )
    coloured = (
        alt.Chart(world)
        .mark_geoshape(stroke="white", strokeWidth=0.4)
        .transform_lookup(
            lookup="id", from_=alt.LookupData(data=data, key="country", fields=fields)
        )
        .transform_filter(f"isValid(datum['{value}'])")
        .encode(
            color=alt.Color(
                f"{value}:{kind}",
                scale=scale,
                legend=alt.Legend(title=legend, format=legend_format)
                if kind == "Q"
                else alt.Legend(title=legend),
            ),
            tooltip=[alt.Tooltip("country_name:N", title="Country"), *tooltip],
        )
        .project(type="equalEarth")
    )
    return alt.layer(base, coloured).properties(title=title, height=height, width="container")


def share_bars(frame: pd.DataFrame, *, title: str, y_title: str) -> alt.Chart:
    """Horizontal bars of ``share`` (0-1) per ``label``, with the percentage written on each bar."""
    order = list(frame["label"])
    bars = (
        alt.Chart(frame)
        .mark_bar(color=NEUTRAL)
        .encode(
            x=percent("x", "share:Q", "Share of cases (%)"),
            y=alt.Y("label:N", title=y_title, sort=order, axis=alt.Axis(labelLimit=320)),
            tooltip=[
                alt.Tooltip("label:N", title=y_title),
                alt.Tooltip("cases:Q", title="Cases", format=","),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
            ],
        )
    )
    text = bars.mark_text(align="left", dx=3, color="black").encode(
        text=alt.Text("share:Q", format=".0%")
    )
    return (bars + text).properties(title=title, width="container")


def waterfall(frame: pd.DataFrame, *, title: str) -> alt.LayerChart:
    """A SHAP waterfall in probability points.

    ``frame`` has columns step (display order), label, start, end (probability 0-1) and kind
    (``base``, ``up``, ``down``, ``score``). Direction is written in the label as well as
    coloured, so colour is not the only carrier of meaning.
    """
    colours = alt.Scale(
        domain=["base", "raises", "lowers", "score"],
        range=["#7f7f7f", "#1a9850", "#d73027", "#0072B2"],
    )
    data = frame.assign(
        kind=frame["kind"].map(
            {"base": "base", "up": "raises", "down": "lowers", "score": "score"}
        ),
        points=(frame["end"] - frame["start"]) * 100,
    )
    order = list(data["label"])
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=360)),
            x=percent("x", "start:Q", "Probability of improvement within a year (%)"),
            x2="end:Q",
            color=alt.Color(
                "kind:N", scale=colours, legend=alt.Legend(title="Effect", orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Step"),
                alt.Tooltip("points:Q", title="Change (probability points)", format="+.1f"),
                alt.Tooltip("end:Q", title="Running total", format=".1%"),
            ],
        )
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", dx=4)
        .encode(
            y=alt.Y("label:N", sort=order),
            x=alt.X("max_end:Q"),
            text=alt.Text("points_text:N"),
        )
        .transform_calculate(
            max_end="max(datum.start, datum.end)",
            points_text="datum.kind == 'base' || datum.kind == 'score' ? "
            "format(datum.end * 100, '.1f') + '%' : format(datum.points, '+.1f') + ' pts'",
        )
    )
    return (bars + text).properties(title=title, width="container")


def group_colour(group: str) -> alt.Scale:
    """The page-wide colour scale of a grouping column (re-exported for pages)."""
    return colour_scale(group)
