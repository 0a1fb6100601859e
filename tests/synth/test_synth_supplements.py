"""The supplementary files: the impact study's frame, nameless communications' topics, replies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth_helpers import assert_same_files

from triage.errors import InputFileError
from triage.schema import HISTORY_FILES, ISSUE_AREAS, read_history
from triage.synth import SUPPLEMENT_FILES, generate, read_supplements, simulate
from triage.synth import _world as W
from triage.synth._supplements import _systematic_flags


def test_supplements_leave_the_six_tables_unchanged() -> None:
    plain = simulate(seed=5, scale=0.05)
    full = simulate(seed=5, scale=0.05, supplements=True)
    assert set(plain) == set(HISTORY_FILES)
    assert set(full) == set(HISTORY_FILES) | set(SUPPLEMENT_FILES)
    for name in HISTORY_FILES:
        pd.testing.assert_frame_equal(plain[name], full[name], obj=name)


def test_generate_writes_supplements_deterministically(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=9, scale=0.05)
    b = generate(tmp_path / "b", seed=9, scale=0.05)
    assert_same_files(a, b, SUPPLEMENT_FILES)
    c = generate(tmp_path / "c", seed=10, scale=0.05)
    assert (a / "reply_content.csv").read_bytes() != (c / "reply_content.csv").read_bytes()


def test_sample_frame_is_the_impact_study_draw(history_dir: Path) -> None:
    history = read_history(history_dir)
    frame = read_supplements(history_dir)["sample_frame"]
    assert len(frame) == W.SAMPLE_DRAWN and frame["case_id"].is_unique
    assert int(frame["information_found"].sum()) == W.SAMPLE_FOUND
    assessed = history.outcomes.loc[
        history.outcomes["assessment"].isin(("survey", "online")), "case_id"
    ]
    assert set(frame.loc[frame["information_found"], "case_id"]) == set(assessed)
    # Every drawn case, found or not, is in the frame: Jan 2004-Nov 2015, at most 10 named.
    cases = frame.merge(history.cases, on=["case_id", "communication_id"], how="left")
    assert cases["sent_date"].notna().all()
    assert cases["sent_date"].between("2004-01-01", "2015-11-30").all()
    letters = history.communications.set_index("communication_id")
    n_named = letters.loc[frame["communication_id"], "n_individuals"]
    assert n_named.between(1, W.SAMPLE_MAX_INDIVIDUALS).all()
    assert (letters.loc[frame["communication_id"], "addressee"] == "state").all()


def test_topics_cover_nameless_communications_only(history_dir: Path) -> None:
    cm = read_history(history_dir).communications
    topics = read_supplements(history_dir)["communication_topics"]
    nameless = cm.loc[(cm["type"] == "PR") | (cm["n_individuals"] == 0), "communication_id"]
    assert sorted(topics["communication_id"]) == sorted(nameless)
    used = set(topics["issue_areas"].dropna().str.split(";").explode())
    assert used <= set(ISSUE_AREAS)
    lgbti = topics.loc[topics["issue_areas"].fillna("").str.contains("lgbti_rights")]
    years = cm.set_index("communication_id").loc[lgbti["communication_id"], "sent_date"].dt.year
    # The surge follows the draft laws: most nameless LGBTI letters are from 2012 on.
    assert (years >= 2012).mean() > 0.6


def test_rejections_report_an_improvement_only_where_a_case_improved() -> None:
    frames = simulate(seed=4, scale=0.4, outcomes="all", supplements=True)
    cm, cases, outcomes = frames["communications"], frames["cases"], frames["outcomes"]
    content = frames["reply_content"]
    known = cm.loc[
        cm["reply_class"].isin(("rejection", "no_rejection")) & (cm["n_individuals"] > 0),
        ["communication_id", "reply_class"],
    ]
    merged = content.merge(known, on="communication_id", suffixes=("", "_cm"), validate="1:1")
    assert len(merged) == len(content) == len(known)
    assert (merged["reply_class"] == merged["reply_class_cm"]).all()
    better = outcomes.loc[outcomes["outcome"].isin(("much_better", "somewhat_better")), "case_id"]
    improved_letters = set(cases.loc[cases["case_id"].isin(better), "communication_id"])
    reporting = set(content.loc[content["reports_improvement"], "communication_id"])
    assert reporting, "some replies report an improvement"
    assert reporting <= improved_letters
    rej = content["reply_class"] == "rejection"
    candidates = rej & content["communication_id"].isin(improved_letters)
    share = content.loc[candidates, "reports_improvement"].mean()
    assert share == pytest.approx(W.REJECTION_REPORTS_IMPROVEMENT, abs=0.01)


def test_protester_descriptions_follow_what_the_letter_says(history_dir: Path) -> None:
    cases = read_history(history_dir).cases
    described = read_supplements(history_dir)["protester_descriptions"]
    protesters = cases.loc[cases["protester"].fillna(False).astype(bool)]
    assert sorted(described["case_id"]) == sorted(protesters["case_id"])
    merged = described.merge(protesters[["case_id", "issue_areas"]], on="case_id")
    areas = merged["issue_areas"].fillna("")
    not_called = ~merged["referred_as_activist"]
    undescribed = not_called[areas == ""].mean()
    protest_only = not_called[areas == "democratic_rights_institutions"].mean()
    other = not_called[~areas.isin(("", "democratic_rights_institutions"))].mean()
    assert undescribed == pytest.approx(W.NOT_ACTIVIST_IF_UNDESCRIBED, abs=0.05)
    assert protest_only == pytest.approx(W.NOT_ACTIVIST_IF_PROTEST_ONLY, abs=0.05)
    assert other == pytest.approx(W.NOT_ACTIVIST_IF_ACTIVITY, abs=0.05)


def test_read_supplements_tolerates_absence_and_names_bad_values(tmp_path: Path) -> None:
    assert read_supplements(tmp_path) == {}
    (tmp_path / "reply_content.csv").write_text(
        "communication_id,reply_class,reports_improvement\nCOM-2005-0001,rejection,yes\n"
    )
    with pytest.raises(InputFileError, match=r"row 2, column reports_improvement: 'yes'"):
        read_supplements(tmp_path)
    (tmp_path / "reply_content.csv").unlink()
    (tmp_path / "sample_frame.csv").write_text("case_id,information_found\nC-000001,true\n")
    with pytest.raises(InputFileError, match=r"sample_frame\.csv: missing required column"):
        read_supplements(tmp_path)


@settings(max_examples=60, deadline=None)
@given(
    rates=st.lists(st.floats(0.0, 0.999), min_size=0, max_size=200),
    seed=st.integers(0, 2**32 - 1),
)
def test_systematic_flags_keep_the_expected_count(rates: list[float], seed: int) -> None:
    r = np.array(rates, dtype=float)
    flags = _systematic_flags(np.random.default_rng(seed), r)
    assert flags.shape == r.shape
    assert abs(int(flags.sum()) - r.sum()) < 1 + 1e-9
    assert not flags[r == 0].any()
