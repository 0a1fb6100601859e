"""The shipped default model and the feature builder on a generated history (another seed, 1/10 scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triage.explain import explain, reasons
from triage.features import FEATURE_COLUMNS, build_features
from triage.schema import read_history
from triage.scoring import load_model


@pytest.fixture(scope="module")
def small(small_history_dir: Path):  # type: ignore[no-untyped-def]
    return read_history(small_history_dir)


def test_shipped_model_scores_and_explains_a_generated_queue(small) -> None:  # type: ignore[no-untyped-def]
    model = load_model()
    assert model.version == "default" and len(model.sha256) == 64
    queue = small.queue
    scored = model.predict(queue, small)
    assert len(scored) == len(queue) and scored["case_id"].is_unique
    assert ((scored["lower"] <= scored["score"]) & (scored["score"] <= scored["upper"])).all()
    table = explain(model, queue, small)
    sums = table.groupby("case_id", sort=False)["contribution"].sum().to_numpy()
    assert np.abs(sums - scored["score"].to_numpy()).max() < 1e-6
    text = " ".join(reasons(table)["text"])
    for column in ("defender_name", "source_contact"):
        assert not any(str(v) in text for v in queue[column].dropna())


def test_generated_history_features_are_point_in_time(small) -> None:  # type: ignore[no-untyped-def]
    cases = small.cases.sort_values("sent_date").iloc[len(small.cases) // 2 :: 50]
    full = build_features(cases, small)
    assert list(full.columns) == list(FEATURE_COLUMNS)
    for _, case in cases.iterrows():
        t = case["sent_date"]
        comms = small.communications[
            (small.communications["sent_date"] < t)
            | (small.communications["communication_id"] == case["communication_id"])
        ].copy()
        late = comms["reply_date"] >= t
        comms.loc[late, ["reply_class", "reply_date"]] = ["none", pd.NaT]
        sent = small.cases.set_index("case_id")["sent_date"]
        past = type(small)(
            communications=comms,
            cases=small.cases[small.cases["sent_date"] < t],
            outcomes=small.outcomes[
                small.outcomes["case_id"].map(sent) + pd.Timedelta(days=365) < t
            ],
        )
        pd.testing.assert_frame_equal(
            full.loc[[case.name]], build_features(cases.loc[[case.name]], past)
        )
