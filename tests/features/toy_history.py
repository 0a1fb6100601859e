"""A tiny, seeded history in the exact ``triage.schema`` shape, for fast feature/scoring tests.

Not the project generator: a few hundred communications whose improvement probability depends on
detention, the delay since the last incident and the country's willingness to reply, so that a
model has something real to learn and the truth is known.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from triage.schema import ISSUE_AREAS, VIOLATIONS, History, region_of

COUNTRIES = ("ARG", "IND", "MEX", "RUS", "EGY", "KEN", "CHN", "BRA", "TUR", "PHL", "SAU", "GRC")
REPLY_P = dict(zip(COUNTRIES, np.linspace(0.1, 0.85, len(COUNTRIES)), strict=True))


def toy_history(
    seed: int = 0, n_comms: int = 600, outcome_share: float = 1.0, n_queue: int = 60
) -> History:
    """Return a seeded toy ``History`` with truth, queue and submissions."""
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp("2004-01-01"), pd.Timestamp("2016-11-30")
    span = (end - start).days
    sent = start + pd.to_timedelta(np.sort(rng.integers(0, span, n_comms)), unit="D")
    country = rng.choice(COUNTRIES, n_comms)
    n_mandates = rng.integers(1, 7, n_comms)
    gap = rng.integers(2, 40, n_comms)
    drafting = 8 * n_mandates + rng.integers(0, 10, n_comms)
    last_incident = sent - pd.to_timedelta(gap + drafting, unit="D")
    p_reply = np.array([REPLY_P[c] for c in country])
    replies = rng.random(n_comms) < p_reply
    cls = np.where(
        replies,
        rng.choice(["rejection", "no_rejection", "immaterial", "content_unknown"], n_comms),
        "none",
    )
    reply_date = pd.Series(sent + pd.to_timedelta(rng.integers(10, 200, n_comms), unit="D"))
    reply_date[~replies] = pd.NaT
    n_ind = rng.integers(0, 4, n_comms)
    comms = pd.DataFrame(
        {
            "communication_id": [f"C{i:05d}" for i in range(n_comms)],
            "sent_date": sent,
            "type": rng.choice(["UA", "AL", "OL"], n_comms),
            "addressee": "state",
            "country": country,
            "n_mandates": pd.array(n_mandates, dtype="Int64"),
            "last_incident_date": last_incident,
            "reply_class": cls,
            "reply_date": reply_date.to_numpy(),
            "n_individuals": pd.array(n_ind, dtype="Int64"),
        }
    )
    rows = np.repeat(np.arange(n_comms), n_ind)
    n_cases = len(rows)
    viol_codes = list(VIOLATIONS)
    detention = rng.random(n_cases) < 0.5
    other = rng.choice(viol_codes[1:], n_cases)
    violations = np.where(detention, "detention;" + other, other)
    individual = rng.integers(0, n_cases // 2 + 1, n_cases)
    cases = pd.DataFrame(
        {
            "case_id": [f"K{i:06d}" for i in range(n_cases)],
            "communication_id": comms["communication_id"].to_numpy()[rows],
            "individual_id": [f"P{i:05d}" for i in individual],
            "sent_date": comms["sent_date"].to_numpy()[rows],
            "country": country[rows],
            "un_region": [region_of(c) for c in country[rows]],
            "gender": rng.choice(["woman", "man", "unknown"], n_cases, p=[0.25, 0.7, 0.05]),
            "violations": violations,
            "issue_areas": rng.choice([*ISSUE_AREAS, ""], n_cases),
            "protester": pd.array(rng.random(n_cases) < 0.3, dtype="boolean"),
        }
    )
    cases["issue_areas"] = cases["issue_areas"].replace("", np.nan)
    delay = (gap + drafting)[rows]
    logit = -1.4 + 1.1 * detention - 0.012 * (delay - 40) + 1.5 * (p_reply[rows] - 0.5)
    p = 1 / (1 + np.exp(-logit))
    improved = rng.random(n_cases) < p
    outcome = np.where(improved, rng.choice(["much_better", "somewhat_better"], n_cases), "same")
    observed = (cases["sent_date"] + pd.Timedelta(days=365) <= end).to_numpy()
    sampled = observed & (rng.random(n_cases) < outcome_share)
    outcomes = pd.DataFrame(
        {
            "case_id": cases["case_id"][sampled].to_numpy(),
            "outcome": outcome[sampled],
            "assessment": "systematic",
            "survey_impact": np.nan,
        }
    )
    received = comms["sent_date"].to_numpy()[rows] - pd.to_timedelta(drafting[rows], unit="D")
    submissions = pd.DataFrame(
        {
            "submission_id": [f"S{i:06d}" for i in range(n_cases)],
            "received_date": received,
            "individual_id": cases["individual_id"],
            "country": cases["country"],
            "un_region": cases["un_region"],
            "gender": cases["gender"],
            "violations": cases["violations"],
            "issue_areas": cases["issue_areas"],
            "protester": cases["protester"],
            "eligible": pd.array([True] * n_cases, dtype="boolean"),
            "case_id": cases["case_id"],
        }
    )
    qc = rng.choice(COUNTRIES, n_queue)
    q_received = end + pd.to_timedelta(rng.integers(1, 365, n_queue), unit="D")
    q_det = rng.random(n_queue) < 0.5
    queue = pd.DataFrame(
        {
            "case_id": [f"Q{i:05d}" for i in range(n_queue)],
            "received_date": q_received,
            "individual_id": [f"P{i:05d}" for i in rng.integers(0, n_cases, n_queue)],
            "defender_name": [f"Fake Person {i}" for i in range(n_queue)],
            "source_contact": [f"fake{i}@example.org" for i in range(n_queue)],
            "country": qc,
            "un_region": [region_of(c) for c in qc],
            "gender": rng.choice(["woman", "man"], n_queue),
            "violations": np.where(q_det, "detention;threats", "threats"),
            "issue_areas": np.nan,
            "protester": pd.array(rng.random(n_queue) < 0.3, dtype="boolean"),
            "type": rng.choice(["UA", "AL"], n_queue),
            "n_mandates": pd.array(rng.integers(1, 6, n_queue), dtype="Int64"),
            "last_incident_date": q_received
            - pd.to_timedelta(rng.integers(1, 30, n_queue), unit="D"),
        }
    )
    truth = pd.DataFrame({"case_id": cases["case_id"], "p_improve": p})
    return History(
        communications=comms,
        cases=cases,
        outcomes=outcomes,
        queue=queue,
        truth=truth,
        submissions=submissions,
        simulated=True,
    )


def write_history(history: History, directory) -> None:  # type: ignore[no-untyped-def]
    """Write a ``History`` as the CSV files of the history contract."""
    from pathlib import Path

    from triage.schema import HISTORY_FILES

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for name, columns in HISTORY_FILES.items():
        frame = getattr(history, name)
        if frame is None:
            continue
        frame = frame.loc[:, list(columns)].copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.strftime("%Y-%m-%d")
            elif pd.api.types.is_bool_dtype(frame[col]) or str(frame[col].dtype) == "boolean":
                frame[col] = frame[col].map({True: "true", False: "false"})
        frame.to_csv(root / f"{name}.csv", index=False, lineterminator="\n")


def toy_fixtures(
    *, seed: int, n_comms: int, n_queue: int, train_seed: int, n_bootstrap: int
) -> tuple[Any, Any]:
    """Return module-scoped fixtures ``toy`` (``toy_history(seed, n_comms, n_queue)``) and
    ``trained`` (``triage.scoring.train`` on it into a temporary folder, with ``train_seed``
    and ``n_bootstrap``); assign them to those names in a test module."""
    import pytest

    from triage.scoring import TrainResult, train

    @pytest.fixture(scope="module")
    def toy() -> History:
        return toy_history(seed=seed, n_comms=n_comms, n_queue=n_queue)

    @pytest.fixture(scope="module")
    def trained(toy: History, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
        folder = tmp_path_factory.mktemp("model") / "toy"
        return train(toy, out_dir=folder, seed=train_seed, n_bootstrap=n_bootstrap)

    return toy, trained
