"""Reasons at the margin: exact ties are settled by the recorded lottery and said so in words."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.allocate import Policy, allocate, explain_selection
from triage.allocate._synthetic import random_candidates

_PCT = re.compile(r"(\d+\.\d+)%")


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), levels=st.integers(2, 12), lottery=st.integers(0, 50))
def test_no_reason_contradicts_its_numbers(seed: int, levels: int, lottery: int) -> None:
    cands = random_candidates(240, seed=seed, n_countries=10)
    # Few distinct scores: large exact ties, some split by the cut-off.
    cands["score"] = np.random.default_rng(seed).integers(1, levels + 1, len(cands)) / (levels + 2)
    policy = Policy.from_toml(
        "name='t'\ncapacity=70\n[share.gender]\nwoman={min=0.3}\n[limit]\nmax_per_country=12\n"
    )
    result = allocate(cands, policy, seed=lottery)
    reasons = explain_selection(cands, policy, result).merge(cands[["case_id", "score"]])
    tied = {c for t in result.ties for c in t.draw_order}
    for row in reasons.itertuples(index=False):
        text = row.reason
        assert "None" not in text and "nan" not in text
        if "below" in text:
            # "its score A is below the B ..." / "below the general entry bar of B": A < B as printed.
            a, b = (float(v) for v in _PCT.findall(text)[:2])
            assert a < b, text
        at_bar = np.isfinite(row.score_to_enter) and abs(row.score - row.score_to_enter) <= 1e-9
        if not row.selected and at_bar:
            assert "below" not in text, text
        if row.case_id in tied and "drawn by lot" in text:
            tie = next(t for t in result.ties if row.case_id in t.draw_order)
            n = len(tie.draw_order)
            assert f"tied with {n - 1} other" in text
            pos = tie.draw_order.index(row.case_id) + 1
            assert f"drawn {pos}" in text and f"seed {lottery}" in text


def test_tie_at_the_cut_off_is_drawn_by_lot_and_explained() -> None:
    cands = random_candidates(60, seed=4, n_countries=6)
    # Fifteen clear cases, then twelve sharing the score at the cut-off (five places left for
    # them), then the rest below.
    cands["score"] = np.concatenate(
        [np.linspace(0.9, 0.5, 15), np.full(12, 0.19), np.linspace(0.15, 0.02, 33)]
    )
    policy = Policy.from_toml("name='t'\ncapacity=20")
    result = allocate(cands, policy, seed=12)
    (tie,) = result.ties
    assert tie.places == 5 and len(tie.draw_order) == 12
    assert set(tie.selected) == set(tie.draw_order[:5])
    reasons = explain_selection(cands, policy, result).set_index("case_id")
    for pos, cid in enumerate(tie.draw_order, start=1):
        text = reasons.loc[cid, "reason"]
        assert text.startswith("Selected" if pos <= 5 else "Not selected"), text
        assert "tied with 11 other cases at 19.0%" in text
        assert "5 places" in text and f"drawn {pos}" in text and "seed 12" in text
        assert "below" not in text
