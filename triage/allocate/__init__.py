"""Allocation: balance policies (TOML), the integer program, reasons, prices, rolling and backtest.

The only package that imports PuLP and highspy.
"""

from triage.allocate._allocation import Allocation, Relaxation, TieDraw, allocate
from triage.allocate._chances import SelectionChances, chance_words, selection_chances
from triage.allocate._interactive import InteractiveAllocator, price_of_balance, tradeoff_curve
from triage.allocate._policy import Bound, Pacing, Policy, PolicyError, load_policy
from triage.allocate._present import (
    achieved_vs_bands,
    constraint_phrase,
    constraint_words,
    price_table,
)
from triage.allocate._problem import CANDIDATE_COLUMNS, prepare_candidates
from triage.allocate._reasons import explain_selection
from triage.allocate._rolling import BacktestResult, RollingResult, backtest, rolling_selection
from triage.allocate._words import (
    BandChange,
    changed_cases,
    compare_policies,
    decision_words,
    group_explanation,
    partition_relaxation,
    plain_price_table,
    relaxation_changes,
    split_reason,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "Allocation",
    "BacktestResult",
    "BandChange",
    "Bound",
    "InteractiveAllocator",
    "Pacing",
    "Policy",
    "PolicyError",
    "Relaxation",
    "RollingResult",
    "SelectionChances",
    "TieDraw",
    "achieved_vs_bands",
    "allocate",
    "backtest",
    "chance_words",
    "changed_cases",
    "compare_policies",
    "constraint_phrase",
    "constraint_words",
    "decision_words",
    "explain_selection",
    "group_explanation",
    "load_policy",
    "partition_relaxation",
    "plain_price_table",
    "prepare_candidates",
    "price_of_balance",
    "price_table",
    "relaxation_changes",
    "rolling_selection",
    "selection_chances",
    "split_reason",
    "tradeoff_curve",
]
