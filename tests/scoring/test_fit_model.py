"""``fit_model``: the lean refit used by ``triage evaluate``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from triage.errors import TriageError
from triage.schema import History
from triage.scoring import fit_model, labelled_cases, time_split
from triage.synth import simulate


@pytest.fixture(scope="module")
def history() -> History:
    return History.from_frames(simulate(seed=4, scale=0.1, outcomes="all"))


def test_fit_model_scores_probabilities_without_an_interval(history: History) -> None:
    model = fit_model(history, seed=0)
    cases = history.cases.tail(200)
    pred = model.predict(cases, history)
    assert pred["score"].between(0, 1).all()
    np.testing.assert_allclose(pred["score"], pred["lower"], rtol=1e-9)
    np.testing.assert_allclose(pred["score"], pred["upper"], rtol=1e-9)
    assert model.metrics["n_labelled"] == len(history.outcomes)
    assert model.members == []


def test_fit_model_is_deterministic_and_ignores_the_truth(history: History) -> None:
    cases = history.cases.tail(100)
    a = fit_model(history, seed=1).predict(cases, history)
    b = fit_model(replace(history, truth=None), seed=1).predict(cases, history)
    np.testing.assert_array_equal(a["score"], b["score"])


def test_fit_model_needs_outcomes(history: History) -> None:
    few = replace(history, outcomes=history.outcomes.head(10))
    with pytest.raises(TriageError, match="only 10 cases have a recorded outcome"):
        fit_model(few)
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
        fit_model(history, seed=-1)


def test_fit_model_leaves_out_an_earlier_origin_with_one_class(history: History) -> None:
    # Nothing improved in the first training years: the earlier selection origin (fit on them,
    # validated on the last training years) holds one class only; the lean refit leaves it out
    # rather than crash (a history of seed 13 cut at 2008 did).
    cases, _ = labelled_cases(history)
    _, _, te = time_split(cases["sent_date"])
    fit_dates = cases["sent_date"][~te].reset_index(drop=True)
    _, _, inner_te = time_split(fit_dates)
    first_inner = int(pd.to_datetime(fit_dates[inner_te]).dt.year.min())
    outcomes = history.outcomes.copy()
    sent = outcomes["case_id"].map(history.cases.set_index("case_id")["sent_date"])
    early = (pd.to_datetime(sent).dt.year < first_inner).to_numpy()
    outcomes.loc[early, "outcome"] = "same"
    model = fit_model(replace(history, outcomes=outcomes), seed=0)
    assert model.metrics["n_labelled"] == len(outcomes)
