"""The Targets page, run headless with Streamlit's AppTest on the small fixture registry: bands
in words, relaxations, unsaved targets, re-solves and prices, saved versions."""

from __future__ import annotations

import re

import pandas as pd
from apptest_helpers import AppEnv, find_table, open_page, texts


def test_targets_reports_an_impossible_band_in_words_with_a_relaxation(app_env: AppEnv) -> None:
    at = open_page("targets", role="mandate_holder")
    assert "Cases selected: 60" in texts(at)
    # 7 of the 165 candidates are from the Eastern European Group: 60% of 60 cannot be met.
    at.slider(key="t_band__un_region__eastern_european").set_value((60, 100)).run()
    shown = texts(at)
    assert "No selection meets all these targets" in shown
    # The smallest relaxation, in the slider's own units and in words, with a button.
    assert "Lower the floor for Eastern European Group from 60% to" in shown
    assert "share_min" not in shown
    next(b for b in at.button if b.label == "Apply this change").click().run()
    assert "No selection meets all these targets" not in texts(at)
    assert not at.exception


def test_targets_offers_a_relaxation_when_floors_exceed_100_percent(app_env: AppEnv) -> None:
    at = open_page("targets", role="mandate_holder")
    at.slider(key="t_band__gender__woman").set_value((90, 100)).run()
    at.slider(key="t_band__gender__man").set_value((50, 100)).run()
    shown = texts(at)
    assert "cannot all hold" in shown
    assert "Lower the floor for Man from 50% to 10% of the selection" in shown
    # 90% women is more than the candidates hold: one offer covers both changes.
    assert "Lower the floor for Woman from 90% to" in shown
    assert "share_min" not in shown
    next(b for b in at.button if b.label == "Apply this change").click().run()
    assert at.slider(key="t_band__gender__man").value == (10, 100)
    shown = texts(at)
    assert "cannot all hold" not in shown
    assert "No selection meets all these targets" not in shown
    assert "Cases selected: 60" in shown


def test_unsaved_targets_survive_a_visit_to_another_page(app_env: AppEnv) -> None:
    at = open_page("targets", role="mandate_holder")
    at.slider(key="t_band__gender__woman").set_value((34, 100)).run()
    at.switch_page("views/selection.py").run()
    assert "Unsaved targets" in texts(at)
    at.switch_page("views/targets.py").run()
    assert at.slider(key="t_band__gender__woman").value == (34, 100)


def test_targets_slider_changes_the_selection_and_prices_it(app_env: AppEnv) -> None:
    at = open_page("targets", role="mandate_holder")
    at.slider(key="t_band__gender__woman").set_value((45, 100)).run()
    shown = texts(at)
    assert "Against policy **test**" in shown
    # Raising the floor for women moves cases.
    assert "**0 cases** would be taken up in addition" not in shown
    assert "case(s)" not in shown
    moves = find_table(at, "Case", "Reason")
    assert {"Country", "Region", "Gender", "Score"} <= set(moves.columns)
    # Prices and the trade-off are computed on a worker thread: the browser polls; here, rerun.
    import time

    for _ in range(120):
        if "What each target costs" in texts(at) and len(at.get("vega_lite_chart")) >= 1:
            break
        time.sleep(0.5)
        at.run()
    # A static table (it wraps its text, so no column runs off a 1366-pixel screen).
    # Targets that cost something first; those that cost nothing in a second table below.
    parts = [t.value.reset_index() for t in at.table if "Cost" in t.value.columns]
    assert all((p["Cost"] != "none").any() for p in parts[:1])
    assert all(p["What it means"].str.startswith("costs nothing").all() for p in parts[1:])
    prices = pd.concat(parts, ignore_index=True)
    assert list(prices.columns) == ["Target", "Cost", "What it means"]
    women = prices[prices["Target"].str.startswith("floor for Woman")]
    cost = prices["Cost"].map(lambda c: 0.0 if c == "none" else float(c))
    assert cost[women.index[0]] > 0
    assert cost.is_monotonic_decreasing  # costliest first
    assert all(c == "none" or re.fullmatch(r"\d+\.\d\d", c) for c in prices["Cost"])
    assert len(at.get("vega_lite_chart")) >= 1  # the trade-off chart of the moved band
    # The change in expected improvements is never a signed zero ("-0.0 vs test").
    metrics = {m.label: m for m in at.metric}
    assert re.fullmatch(r"\d+\.\d\d", metrics["What all targets cost"].value)
    delta = metrics["Expected improvements"].proto.delta
    assert re.fullmatch(r"[+-]\d+\.\d+ vs test", delta), delta
    assert not re.match(r"[+-]0\.0+ ", delta)


def test_targets_show_no_change_without_an_arrow(app_env: AppEnv) -> None:
    at = open_page("targets", role="mandate_holder")
    metric = next(m for m in at.metric if m.label == "Expected improvements")
    assert metric.proto.delta == ""  # the policy's own targets: nothing to compare


def test_targets_saves_a_new_policy_version_with_a_diff(writable_env: AppEnv) -> None:
    at = open_page("targets", role="mandate_holder")
    at.slider(key="t_capacity").set_value(50).run()
    assert "+capacity = 50" in at.code[0].value
    at.text_input(key="t_save_name").input("fifty")
    next(b for b in at.button if b.label == "Save policy version").click().run()
    saved = writable_env.var / "policies" / "fifty.toml"
    assert saved.exists()
    from triage.allocate import load_policy

    assert load_policy(saved).capacity == 50
    assert at.selectbox(key="policy").value == "saved/fifty.toml"


# -- selection ---------------------------------------------------------------------------------
