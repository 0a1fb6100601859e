"""The history tables assembled from the simulation's month loop, as text and typed.

``to_text`` runs the steps in a fixed order (each draws from the run's one random stream, so the
order is part of the seed's meaning): the letters naming individuals, the other communications,
the states' replies, the communications and cases tables, the impact sample with each case's
truth and outcome, the submissions and the next year's queue. The supplementary and
counterfactual tables are drawn from streams of their own.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from triage.schema import BOOL_COLUMNS, DATE_COLUMNS, INT_COLUMNS
from triage.synth._letters import draw_named_letters, draw_other_communications
from triage.synth._outcomes import draw_impact_sample, draw_outcomes
from triage.synth._replies import draw_replies
from triage.synth._simulate import _Run
from triage.synth._tables import (
    cases_table,
    communications_table,
    queue_table,
    submissions_table,
)

__all__ = ["to_text", "typed", "typed_tables"]


def typed_tables(text: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Type ``to_text``'s tables as their readers do (the six, the supplementary four and the
    two counterfactual ones)."""
    from triage.synth._counterfactual import COUNTERFACTUAL_FILES, typed_counterfactual
    from triage.synth._supplements import SUPPLEMENT_FILES, typed_supplement

    out = {}
    for name, frame in text.items():
        if name in SUPPLEMENT_FILES:
            out[name] = typed_supplement(name, frame)
        elif name in COUNTERFACTUAL_FILES:
            out[name] = typed_counterfactual(name, frame)
        else:
            out[name] = typed(frame)
    return out


def to_text(
    run: _Run,
    *,
    outcomes: Literal["sample", "all"],
    scale: float,
    supplements: bool = False,
    counterfactual: bool = False,
) -> dict[str, pd.DataFrame]:
    """Build the six tables as text, exactly as written to CSV (and the supplementary four).

    With ``supplements=True`` the result also holds ``sample_frame``, ``communication_topics``,
    ``reply_content`` and ``protester_descriptions`` (see ``triage.synth._supplements``), drawn from their own stream.
    With ``counterfactual=True`` it also holds ``submission_plans`` and ``submission_truth``
    (see ``triage.synth._counterfactual``), drawn from another stream of their own.
    """
    letters = draw_named_letters(run, scale)
    other = draw_other_communications(run, letters, scale)
    replies = draw_replies(run, letters, other)
    communications, comm_id = communications_table(run, letters, other, replies)
    cases = cases_table(run, letters, comm_id)
    case_violations = run.people.viol[letters.taken]
    sample = draw_impact_sample(run.rng, letters, case_violations, scale)
    case_outcomes = draw_outcomes(
        run,
        letters,
        sample,
        case_id=cases.case_id,
        reply_logit=replies.reply_logit,
        outcomes=outcomes,
        scale=scale,
    )
    submissions = submissions_table(run, letters, cases.case_id)
    queue = queue_table(run, case_outcomes.truth)
    truth = pd.DataFrame(
        {
            "case_id": np.concatenate([cases.case_id, queue.case_id]),
            "p_improve": np.concatenate([case_outcomes.p_improve, queue.p_improve]),
        }
    )
    tables = {
        "communications": communications,
        "cases": cases.table,
        "outcomes": case_outcomes.table.sort_values("case_id", kind="stable").reset_index(
            drop=True
        ),
        "truth": truth.sort_values("case_id", kind="stable").reset_index(drop=True),
        "queue": queue.table,
        "submissions": submissions.table,
    }
    if supplements:
        from triage.synth._supplements import supplement_tables

        tables |= supplement_tables(
            run,
            letters,
            other,
            comm_id=comm_id,
            case_id=cases.case_id,
            sample=sample,
            improved=case_outcomes.improved,
            letter_reply=replies.reply_class[: len(letters)],
        )
    if counterfactual:
        from triage.synth._counterfactual import counterfactual_tables

        truth_model = case_outcomes.truth

        def truth_of(
            rows: np.ndarray, n_mandates: np.ndarray, delay: np.ndarray, sent_year: np.ndarray
        ) -> np.ndarray:
            # The truth's model for a submission taken up with this letter (see ``p_improve``).
            return truth_model.p_improve(
                run.people.viol[rows],
                run.people.repeat[rows],
                n_mandates=n_mandates,
                delay=delay,
                country=run.person_country[rows],
                year=sent_year,
            )

        tables |= counterfactual_tables(
            seed=run.seed,
            submission_id=submissions.submission_id,
            received=submissions.received,
            eligible=run.person_eligible,
            letters=letters,
            case_truth=case_outcomes.p_improve,
            truth_of=truth_of,
        )
    return tables


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a text table the way ``triage.schema.read_history`` types it."""
    out = frame.copy()
    for col in out.columns:
        if col in DATE_COLUMNS:
            out[col] = pd.to_datetime(out[col], format="%Y-%m-%d")
        elif col in BOOL_COLUMNS:
            out[col] = out[col].map({"true": True, "false": False}).astype("boolean")
        elif col in INT_COLUMNS:
            out[col] = pd.to_numeric(out[col]).astype("Int64")
        elif col == "p_improve":
            out[col] = out[col].astype(float).round(6)  # as written with %.6f
        else:
            out[col] = out[col].astype("str")
    return out
