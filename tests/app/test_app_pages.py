"""Every page of the app, run headless with Streamlit's AppTest on the small fixture registry.

Each test asserts what the page shows (values computed independently through ``triage``), not
only that it runs without an exception.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from apptest_helpers import APP, TIMEOUT, AppEnv, find_table, open_page, texts
from streamlit.testing.v1 import AppTest


def scored(env: AppEnv) -> pd.DataFrame:
    """The queue scored directly through triage (the app must show the same)."""
    from triage.registry import Registry
    from triage.scoring import load_model

    registry = Registry(env.db_url)
    history = registry.history()
    assert history.queue is not None
    scores = load_model(env.models / "default").predict(history.queue, history)
    registry.dispose()
    return history.queue.merge(scores, on="case_id")


# -- gate and routing --------------------------------------------------------------------------


def test_gate_offers_open_demo_and_opens_the_role_home(app_env: AppEnv) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert "Open demo mode" in texts(at)
    at.radio(key="gate_role").set_value("mandate_holder")
    at.button[0].click().run()
    assert [t.value for t in at.title] == ["Targets"]
    assert at.query_params["as"] == "mandate_holder"


@pytest.mark.parametrize(
    ("role", "home"), [("staff", "Queue"), ("mandate_holder", "Targets"), ("auditor", "Audit")]
)
def test_each_role_opens_on_its_page_with_the_simulated_banner(
    app_env: AppEnv, role: str, home: str
) -> None:
    at = open_page(None, role=role)
    assert [t.value for t in at.title] == [home]
    assert any("Simulated data" in w.value for w in at.warning)


@pytest.mark.slow
def test_every_widget_has_a_stable_key(app_env: AppEnv) -> None:
    for page in ("queue", "case", "targets", "selection", "monitoring", "audit"):
        at = open_page(page)
        for kind in (
            "selectbox",
            "multiselect",
            "slider",
            "number_input",
            "toggle",
            "radio",
            "text_input",
            "text_area",
        ):
            for widget in getattr(at, kind):
                assert widget.key, f"{page}: {kind} {widget.label!r} has no key"


# -- queue -------------------------------------------------------------------------------------


def test_queue_lists_the_top_scored_case_first_with_interval_and_reasons(app_env: AppEnv) -> None:
    expected = scored(app_env).sort_values(["score", "case_id"], ascending=[False, True]).iloc[0]
    at = open_page("queue")
    table = at.dataframe(key="q_table").value
    first = table.iloc[0]
    assert first["Case"] == expected["case_id"]
    assert first["Score"] == pytest.approx(expected["score"] * 100)
    assert first["Interval"] == f"{expected['lower'] * 100:.0f}–{expected['upper'] * 100:.0f}%"
    assert first["Top reasons"].count("points") >= 1
    assert first["Policy"] in ("✔ Selected", "✘ Not selected")
    assert first["Why"]
    # Names never appear in the list, for any role.
    names = set(scored(app_env)["defender_name"].dropna())
    assert not names & set(table.astype(str).to_numpy().ravel())


def test_queue_filters_are_applied_and_mirrored_in_the_url(app_env: AppEnv) -> None:
    at = open_page("queue")
    at.multiselect(key="q_region").set_value(["african"]).run()
    at.multiselect(key="q_gender").set_value(["woman"]).run()
    table = at.dataframe(key="q_table").value
    queue = scored(app_env)
    expected = queue[(queue["un_region"] == "african") & (queue["gender"] == "woman")]
    assert len(expected) > 0
    assert set(table["Region"]) == {"African Group"}
    assert set(table["Gender"]) == {"Woman"}
    assert f"**{len(expected)}** of" in texts(at)
    assert at.query_params["q_region"] == "african"
    assert at.query_params["q_gender"] == "woman"


def test_queue_reload_keeps_the_filters_from_the_url(app_env: AppEnv) -> None:
    at = open_page("queue", params={"q_violation": ["killing", "threats"], "q_sort": "country"})
    assert at.multiselect(key="q_violation").value == ["killing", "threats"]
    assert at.selectbox(key="q_sort").value == "country"
    table = at.dataframe(key="q_table").value
    assert all(("Killing" in v) or ("Threats" in v) for v in table["Violations"])
    assert list(table["Country"]) == sorted(table["Country"])


def test_queue_shows_and_sorts_by_the_chance_of_selection(app_env: AppEnv) -> None:
    at = open_page("queue", params={"q_sort": "p_selected"})
    table = at.dataframe(key="q_table").value
    chance = table["Chance"]
    assert chance.notna().all() and ((chance >= 0) & (chance <= 100)).all()
    assert list(chance) == sorted(chance, reverse=True)
    assert all(w.startswith(("selected under", "left out under")) for w in table["Chance in words"])
    # Selected under every replicate: the word and the number agree.
    for number, words in zip(chance, table["Chance in words"], strict=True):
        assert (number == 100) == words.startswith("selected under all")
    at.selectbox(key="q_chance").set_value("borderline").run()
    borderline = at.dataframe(key="q_table").value["Chance"]
    assert ((borderline >= 25) & (borderline <= 75)).all()
    assert at.query_params["q_chance"] == "borderline"


def test_queue_open_case_button_opens_the_case_page(app_env: AppEnv) -> None:
    at = open_page("queue")
    second = at.dataframe(key="q_table").value.iloc[1]["Case"]
    at.selectbox(key="q_open_id").set_value(second)
    next(b for b in at.button if b.label == "Open case").click().run()
    assert [t.value for t in at.title] == ["Case"]
    assert at.selectbox(key="case_id").value == second


# -- case --------------------------------------------------------------------------------------


def test_case_page_shows_score_reasons_what_if_and_record(app_env: AppEnv) -> None:
    from triage.scoring import load_model

    queue = scored(app_env)
    case = queue.sort_values("case_id").iloc[3]
    at = open_page("case", params={"case": case["case_id"]})
    assert at.selectbox(key="case_id").value == case["case_id"]
    shown = texts(at)
    assert f"{case['score']:.1%}" in [m.value for m in at.metric]
    assert "1. " in shown and "points" in shown  # plain-language reasons
    # What-if: the app's "alone" score equals the model's score with one mandate.
    alone = case.drop(labels=["score", "lower", "upper"]).to_frame().T
    alone["n_mandates"] = pd.array([1], dtype="Int64")
    from triage.registry import Registry

    history = Registry(app_env.db_url).history()
    expected = load_model(app_env.models / "default").predict(alone, history)["score"].iloc[0]
    metric = next(m for m in at.metric if m.label == "HRD mandate alone")
    assert metric.value == f"{expected:.1%}"
    # Country reply record and the policy decision are stated.
    assert "Response rate" in at.table[1].value.index
    assert "Policy test" in shown
    # The chance of selection, as a number and in words that agree with it.
    chance = next(m for m in at.metric if m.label == "Chance of selection")
    words = next(c.value for c in at.caption if "plausible model" in c.value)

    found = re.search(r"under (all )?(\d+)(?: of (\d+))? plausible", words)
    assert found is not None, words
    n = int(found.group(3) or found.group(2))
    times = int(found.group(2)) if found.group(3) else (n if words.startswith("Selected") else 0)
    assert chance.value == f"{times / n:.0%}"


def test_case_page_names_follow_the_role(app_env: AppEnv) -> None:
    queue = scored(app_env)
    case = queue[queue["defender_name"].notna()].iloc[0]
    staff = open_page("case", params={"case": case["case_id"]})
    assert case["defender_name"] in staff.table[0].value["Value"].tolist()
    auditor = open_page("case", role="auditor", params={"case": case["case_id"]})
    facts = auditor.table[0].value
    assert case["defender_name"] not in facts["Value"].tolist()
    assert "Defender (pseudonym)" in facts.index


@pytest.mark.slow
def test_override_needs_a_run_and_a_reason_and_reaches_the_audit_page(
    writable_env: AppEnv,
) -> None:
    at = open_page("selection")
    at.button(key="sel_record").click().run()
    assert "Recorded run-" in texts(at)
    case_id = scored(writable_env).sort_values("case_id").iloc[0]["case_id"]
    at = open_page("case", params={"case": case_id})
    submit = next(b for b in at.button if b.label == "Record override")
    submit.click().run()
    assert "needs a reason" in texts(at)
    at.text_area(key="override_reason").input("Source confirmed a new arrest this week.")
    decision = at.radio(key="override_action")
    # Override in the direction that changes the recorded decision.
    from triage.audit import effective_selection
    from triage.registry import Registry

    chosen = effective_selection(Registry(writable_env.db_url), "run-000001")
    decision.set_value("drop" if case_id in chosen else "select")
    next(b for b in at.button if b.label == "Record override").click().run()
    assert "recorded for" in texts(at), texts(at)
    assert find_table(at, "Override", "Reason")["Reason"].iloc[0].startswith("Source confirmed")
    audit = open_page("audit", role="auditor")
    overrides = find_table(audit, "Override", "Case")
    assert list(overrides["Case"]) == [case_id]


# -- targets -----------------------------------------------------------------------------------


def test_selection_shows_every_target_and_exports_safely(app_env: AppEnv) -> None:
    at = open_page("selection")
    regions = find_table(at, "Group", "Band")
    assert regions["Selected"].sum() == 60
    african = regions[regions["Group"] == "African Group"].iloc[0]
    assert african["Band"] == "at least 15%"
    assert float(african["Share now"].rstrip("%")) >= 15
    csv = at.get("download_button")
    assert len(csv) == 2
    cases = find_table(at, "Case", "Reason")
    assert len(cases) == 60 and cases["Selected"].all()
    assert "defender_name" not in cases.columns


# -- monitoring and audit ----------------------------------------------------------------------


def test_monitoring_computes_the_paper_figures_on_the_registry(app_env: AppEnv) -> None:
    from triage.registry import Registry

    history = Registry(app_env.db_url).history()
    at = open_page("monitoring", role="auditor")
    shown = texts(at)
    assert f"Communications: {len(history.communications):,}" in shown
    assert f"Individual cases: {len(history.cases):,}" in shown
    assert "more days** of delay" in shown
    charts = at.get("vega_lite_chart")
    titles = " ".join(str(c.proto.spec) for c in charts)
    for figure in range(1, 9):
        assert f"Figure {figure}" in titles
    assert "topojson" in titles  # the maps carry their own geometry: no CDN
    assert "https://" not in titles.replace("https://vega.github.io/schema", "")


def test_audit_replays_a_recorded_run_identically(writable_env: AppEnv) -> None:
    at = open_page("audit", role="auditor")
    assert "No selection run is recorded yet" in texts(at)
    open_page("selection").button(key="sel_record").click().run()
    at = open_page("audit", role="auditor")
    runs = find_table(at, "Run", "Candidates sha256")
    assert list(runs["Run"]) == ["run-000001"]
    assert runs["Selected"].iloc[0] == 60
    assert runs["Status"].iloc[0] == "optimal"
    assert "Audit trail intact" in texts(at)
    at.button(key="audit_replay").click().run()
    assert "Replay identical" in texts(at)


def test_login_is_required_when_users_exist(
    app_env: AppEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.audit import add_user

    users = tmp_path / "users.toml"
    add_user("ana", role="auditor", password="correct horse battery", path=users)
    monkeypatch.setenv("TRIAGE_USERS", str(users))
    monkeypatch.delenv("TRIAGE_OPEN_DEMO")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["as"] = "staff"  # the open-demo shortcut must not bypass a login
    at.run()
    assert "Open demo mode" not in texts(at)
    assert not at.title or at.title[0].value == "triage"
    at.text_input(key="login_user").input("ana")
    at.text_input(key="login_password").input("wrong password")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert "unknown user or wrong password" in texts(at)
    at.text_input(key="login_password").input("correct horse battery")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert [t.value for t in at.title] == ["Audit"]
    assert "ana" in texts(at) and "Auditor" in texts(at)


# -- the precomputed first page ----------------------------------------------------------------


def _fresh_caches() -> None:
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()


def test_queue_serves_the_precomputed_first_page_only_while_it_is_current(
    writable_env: AppEnv,
) -> None:
    from triage.monitor import build_first_page, write_first_page
    from triage.registry import Registry

    registry = Registry(writable_env.db_url)
    page = build_first_page(
        registry,
        model_dir=writable_env.models / "default",
        policy_path=writable_env.var / "policies" / "test.toml",
    )
    write_first_page(page)
    _fresh_caches()
    cached = open_page("queue").dataframe(key="q_table").value
    # The stored page, computed ahead, shows exactly what the app computes itself.
    (writable_env.var / "cache" / "first-page.json").unlink()
    _fresh_caches()
    fresh = open_page("queue").dataframe(key="q_table").value
    pd.testing.assert_frame_equal(cached, fresh)

    # Mark the stored scores so the test can tell whether the app served them.
    top = fresh.iloc[0]["Case"]
    marked = page.scores.assign(
        score=page.scores["score"].where(page.scores["case_id"] != top, 0.0)
    )
    write_first_page(replace(page, scores=marked))
    _fresh_caches()
    served = open_page("queue").dataframe(key="q_table").value
    assert top not in set(served["Case"].iloc[:5])  # its stored score 0 sinks it: served
    # A case changes status (here: found ineligible): the stored page is stale and not served.
    registry.advance(str(fresh.iloc[3]["Case"]), "ineligible", note="test")
    registry.dispose()
    _fresh_caches()
    after = open_page("queue").dataframe(key="q_table").value
    assert after.iloc[0]["Case"] == top
    assert after.iloc[0]["Score"] == pytest.approx(fresh.iloc[0]["Score"])


# -- second pass: search, export, plain words, effective decisions ------------------------------


def test_queue_search_pages_and_exports_without_names(app_env: AppEnv) -> None:
    queue = scored(app_env)
    target = queue.sort_values("case_id").iloc[5]
    at = open_page("queue", params={"q_search": target["case_id"]})
    table = find_table(at, "Case", "Why")
    assert list(table["Case"]) == [target["case_id"]]
    assert "page 1 of 1" in texts(at)
    assert not table["Why"].str.contains(r"share_min|share_max|max_per_country\[").any()
    assert not table.astype(str).isin(["None", "nan"]).any().any()
    assert "Constraints" not in table.columns  # only auditors get the exact names
    # Staff may search by the defender's name, which the list never shows.
    named = queue[queue["defender_name"].notna()].iloc[0]
    at = open_page("queue", params={"q_search": str(named["defender_name"])})
    found = find_table(at, "Case", "Why")
    assert named["case_id"] in list(found["Case"])
    assert named["defender_name"] not in found.astype(str).to_numpy().ravel()
    auditor = open_page("queue", role="auditor", params={"q_search": str(named["defender_name"])})
    assert named["case_id"] not in list(find_table(auditor, "Case", "Why")["Case"])
    assert "Constraints" in find_table(open_page("queue", role="auditor"), "Case").columns
    from triage.audit import export_csv

    buttons = [b for b in at.get("download_button")]
    assert len(buttons) == 2
    csv = export_csv(
        pd.DataFrame({"case_id": ["x"], "defender_name": ["Name"]}), role="staff", simulated=True
    ).decode()
    assert "Name" not in csv  # the exports drop names for every role that lists cases


def test_case_page_reads_in_words_and_shows_both_reply_records(app_env: AppEnv) -> None:
    case_id = scored(app_env).sort_values("case_id").iloc[2]["case_id"]
    at = open_page("case", params={"case": case_id})
    shown = texts(at)
    assert "share_min" not in shown and "max_per_country[" not in shown
    spec = " ".join(str(c.proto.spec) for c in at.get("vega_lite_chart"))

    assert not re.search(r"\bv_[a-z]+ =|\bia_[a-z_]+ =|country_improve_rate", spec)
    record = at.table[1].value
    assert any("at the time of the case" in c for c in record.columns)
    assert any(c.endswith(", today") for c in record.columns)


def test_open_demo_session_ends_when_users_are_created(
    app_env: AppEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.audit import add_user

    users = tmp_path / "users.toml"
    monkeypatch.setenv("TRIAGE_USERS", str(users))
    monkeypatch.delenv("TRIAGE_OPEN_DEMO")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.text_input(key="gate_user").input("[x](http://evil.example)")
    at.button[0].click().run()
    assert "user name must be" in texts(at)  # no markdown in a name others will read
    at.text_input(key="gate_user").input("visitor")
    at.button[0].click().run()
    assert [t.value for t in at.title] == ["Queue"]
    add_user("ana", role="staff", password="correct horse battery", path=users)
    at.run()
    assert "open demo session ended" in texts(at)
    assert "auth_role" not in at.session_state


def test_user_text_is_plain_and_tables_are_formula_safe() -> None:
    import sys

    sys.path.insert(0, str(APP.parent))
    from _ui import plain, safe_table

    shown = plain("![i](http://evil.example/i.png) <img src=x> **b**")
    # Every markdown and HTML character is escaped, so nothing renders as a link or an image.
    assert "\\!\\[i\\]\\(" in shown and "\\<img" in shown and "\\*\\*b" in shown
    frame = pd.DataFrame(
        {"Reason": pd.Categorical(["=cmd|' /C calc'!A0", "ok"]), "User": ["@SUM(1)", "+x"]}
    )
    safe = safe_table(frame)
    assert list(safe["Reason"]) == ["'=cmd|' /C calc'!A0", "ok"]
    assert list(safe["User"]) == ["'@SUM(1)", "'+x"]
