"""Counterfactual evaluation on simulated histories: would triage have chosen better?

Each year is replayed with only what was known when it began: the model is refitted on the
outcomes observed before it, scores that year's eligible submissions, and its selection under a
balance policy is valued with the generator's counterfactual truth (``submission_truth.csv``,
never a feature), next to the mandate's own choices, random picks and the oracle under the same
policy.
"""

from triage.evaluate._data import Prepared, known_at, prepare
from triage.evaluate._evaluate import Backend, Evaluation, evaluate, simulated_histories

__all__ = [
    "Backend",
    "Evaluation",
    "Prepared",
    "evaluate",
    "known_at",
    "prepare",
    "simulated_histories",
]
