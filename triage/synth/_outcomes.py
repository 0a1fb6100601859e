"""The impact sample, each case's truth and its outcome one year on, and the survey's answers.

The impact sample is drawn as the paper's study drew it (letters sampled evenly over years and
over letters sent alone or jointly, then the cases whose information was found, then those
surveyed). The truth's effects are solved on that sample (``_improvement``), and outcomes are
drawn from the truth by systematic sampling along the paper's breakdowns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from triage.synth import _world as W
from triage.synth._calendar import _largest_remainder
from triage.synth._draws import _low_discrepancy, _systematic_draws
from triage.synth._improvement import (
    _HIDDEN_SD,
    _MIN_SOLVE_ROWS,
    _Effects,
    _engagement_effect,
    _improve_linear,
    _marginal_improve,
    _solve_effects,
)
from triage.synth._letters import NamedLetters
from triage.synth._people import _V
from triage.synth._roots import solve_intercept
from triage.synth._simulate import _Run

_SURVEY_ANSWERS = ("definitely", "probably", "rather_unlikely", "definitely_unlikely")


@dataclass(frozen=True)
class ImpactSample:
    """Case indices (in case order) of the paper's impact study, each set within the last."""

    drawn: np.ndarray  # drawn for the study (sorted by draw)
    found: np.ndarray  # information found online (sorted)
    surveyed: np.ndarray  # answered by the survey (sorted)


def draw_impact_sample(
    rng: np.random.Generator, letters: NamedLetters, violations: np.ndarray, scale: float
) -> ImpactSample:
    """Draw the impact study's sample of letters, then its cases found and surveyed."""
    sent = letters.sent
    case_letter = letters.case_letter
    case_year = letters.year[case_letter]
    frame_letters = np.flatnonzero(
        (sent >= np.datetime64(W.SAMPLE_FROM))
        & (sent <= np.datetime64(W.SAMPLE_TO))
        & (letters.n_individuals <= W.SAMPLE_MAX_INDIVIDUALS)
        & (letters.n_individuals > 0)
        & (letters.addressee == "state")
    )
    drawn_target = round(W.SAMPLE_DRAWN * scale)
    found_target = round(W.SAMPLE_FOUND * scale)
    survey_target = round(W.SAMPLE_SURVEY * scale)
    # A random sample of letters, spread evenly over years and over letters sent alone or
    # jointly (systematic sampling from a sorted frame, as a survey design would do).
    order_key = _low_discrepancy(
        rng, (letters.year[frame_letters], letters.n_mandates[frame_letters] == 1)
    )
    shuffled = frame_letters[np.argsort(order_key, kind="stable")]
    cumulative = np.cumsum(letters.n_individuals[shuffled])
    n_take = int(np.searchsorted(cumulative, drawn_target)) + 1
    drawn_letters = shuffled[:n_take]
    letter_rank = np.full(len(letters), -1, dtype=np.int64)
    letter_rank[drawn_letters] = np.arange(len(drawn_letters))
    drawn = np.flatnonzero(letter_rank[case_letter] >= 0)
    drawn = drawn[np.lexsort((rng.random(len(drawn)), letter_rank[case_letter[drawn]]))][
        :drawn_target
    ]
    # Information is easier to find for detention cases and recent years (p. 17 fn 16).
    # Court rulings on lawyers' disciplinary cases are published (p. 23 fn 21).
    findability = np.exp(
        0.3 * violations[drawn, _V["detention"]]
        + 0.9 * violations[drawn, _V["professional_restriction"]]
        + 0.04 * (case_year[drawn] - 2004)
    )
    key = np.log(rng.random(len(drawn))) / findability
    found = drawn[np.argsort(-key, kind="stable")[:found_target]]
    found.sort()
    survey_weight = np.exp(0.08 * (case_year[found] - 2004))
    survey_key = np.log(rng.random(len(found))) / survey_weight
    surveyed = found[np.argsort(-survey_key, kind="stable")[:survey_target]]
    surveyed.sort()
    return ImpactSample(drawn=drawn, found=found, surveyed=surveyed)


@dataclass(frozen=True)
class TruthModel:
    """The truth's model as solved on this seed: what scores a case or a queued submission."""

    intercept: float
    effects: _Effects
    country_effect: np.ndarray  # per country index (log-odds)

    def p_improve(
        self,
        violations: np.ndarray,
        repeat: np.ndarray,
        *,
        n_mandates: np.ndarray,
        delay: np.ndarray,
        country: np.ndarray,
        year: np.ndarray,
        hidden: np.ndarray | None = None,
    ) -> np.ndarray:
        """Chance of improvement (0–1) given the letter, its hidden luck (if drawn) averaged out."""
        luck = np.zeros(len(violations)) if hidden is None else hidden
        linear = _improve_linear(
            violations,
            repeat,
            n_mandates,
            delay,
            self.country_effect[country],
            year,
            luck,
            self.effects,
        )
        return _marginal_improve(self.intercept + linear - luck)


@dataclass(frozen=True)
class CaseOutcomes:
    """Each case's truth and outcome, and the outcomes table of the assessed cases."""

    truth: TruthModel
    p_improve: np.ndarray  # per case, the hidden luck averaged out
    improved: np.ndarray  # per case, bool
    table: pd.DataFrame  # case_id, outcome, assessment, survey_impact (unsorted)


def _country_effects(rng: np.random.Generator, run: _Run, reply_logit: np.ndarray) -> np.ndarray:
    """Per country log-odds of improvement: noise, engagement, and the paper's named countries."""
    country_index = {str(c): i for i, c in enumerate(run.countries)}
    effect = rng.normal(0.0, 0.3, len(run.countries)) + _engagement_effect(reply_logit)
    for c in W.COUNTRY_IMPROVE_POSITIVE:
        effect[country_index[c]] = W.NAMED_POSITIVE_EFFECT
    for c in W.COUNTRY_IMPROVE_NEGATIVE:
        effect[country_index[c]] = W.NAMED_NEGATIVE_EFFECT
    return effect


def _worse_and_mixed(
    violations: np.ndarray, case_year: np.ndarray, in_sample: np.ndarray, p_draw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Chances of a worse outcome (given no improvement) and a mixed one (given neither)."""
    v = violations.astype(float)
    worse_linear = (
        4.0 * v[:, _V["administrative_harassment"]]
        + 0.5 * v[:, _V["killing"]]
        + 0.4 * v[:, _V["threats"]]
        + np.array([W.YEAR_WORSEN.get(int(y), 0.0) for y in case_year])
    )
    worse_intercept = solve_intercept(worse_linear, in_sample * (1 - p_draw), 0.26 / 0.76)
    p_worse = expit(worse_intercept + worse_linear)
    # Mixed developments given neither improvement nor deterioration: detention makes them
    # likely (release, then renewed detention or sentencing), solved on the sample so that 14 %
    # of its detention cases are mixed in expectation (p. 22).
    detention_in_sample = v[:, _V["detention"]] * in_sample
    mixed_intercept = -0.7
    if detention_in_sample.sum() >= _MIN_SOLVE_ROWS:
        mixed_intercept = solve_intercept(
            np.zeros(len(v)),
            detention_in_sample,
            W.DETENTION_MIXED_SHARE,
            scale=(1 - p_draw) * (1 - p_worse),
        )
    p_mixed = np.where(v[:, _V["detention"]] > 0, expit(np.full(len(v), mixed_intercept)), 0.12)
    return p_worse, p_mixed


def _survey_answers(
    rng: np.random.Generator,
    surveyed: np.ndarray,
    outcome: np.ndarray,
    improved: np.ndarray,
    worse: np.ndarray,
    scale: float,
) -> np.ndarray:
    """The survey's answer on the letter's impact per case (None outside the survey)."""
    impact = np.full(len(outcome), None, dtype=object)
    counts = {a: round(n * scale) for a, n in W.SURVEY_COUNTS.items()}
    dont_know = rng.choice(surveyed, size=min(counts["dont_know"], len(surveyed)), replace=False)
    answering = np.setdiff1d(surveyed, dont_know)
    impact[dont_know] = "dont_know"
    perceived = (
        1.5 * improved[answering] + 0.6 * (outcome[answering] == "mixed") - 0.5 * worse[answering]
    ) + rng.normal(0.0, 1.0, len(answering))
    by_rank = answering[np.argsort(-perceived, kind="stable")]
    start = 0
    sizes = _largest_remainder(
        len(by_rank), np.array([counts[a] for a in _SURVEY_ANSWERS], dtype=float)
    )
    for answer, size in zip(_SURVEY_ANSWERS, sizes, strict=True):
        impact[by_rank[start : start + size]] = answer
        start += size
    return impact


def draw_outcomes(
    run: _Run,
    letters: NamedLetters,
    sample: ImpactSample,
    *,
    case_id: np.ndarray,
    reply_logit: np.ndarray,
    outcomes: Literal["sample", "all"],
    scale: float,
) -> CaseOutcomes:
    """Solve the truth on the impact sample, then draw every case's outcome and survey answer."""
    rng = run.rng
    taken = letters.taken
    case_letter = letters.case_letter
    violations = run.people.viol[taken]
    case_year = letters.year[case_letter]
    n_mandates = letters.n_mandates[case_letter]
    drafting = letters.drafting_days[case_letter]
    country_effect = _country_effects(rng, run, reply_logit)
    case_country_effect = country_effect[run.letter_country[case_letter]]
    hidden = rng.normal(0.0, _HIDDEN_SD, len(taken))
    repeat = run.people.repeat[taken]
    found = sample.found
    # The intercept and the detention, conviction and year effects are solved on the impact
    # sample so that its expected shares are the paper's, on every seed.
    rest = _improve_linear(
        violations, repeat, n_mandates, drafting, case_country_effect, case_year, hidden
    )
    effects = _solve_effects(
        rest[found],
        violations[found, _V["detention"]],
        violations[found, _V["conviction"]],
        violations[found, _V["professional_restriction"]],
        n_mandates[found],
        case_year[found],
    )
    intercept = effects.intercept
    linear = _improve_linear(
        violations,
        repeat,
        n_mandates,
        drafting,
        case_country_effect,
        case_year,
        hidden,
        effects,
    )
    p_draw = expit(intercept + linear)
    # The truth written out: the same probability with the per-case luck averaged over.
    p_improve = _marginal_improve(intercept + linear - hidden)
    in_sample = np.zeros(len(taken))
    in_sample[found] = 1.0
    p_worse, p_mixed = _worse_and_mixed(violations, case_year, in_sample, p_draw)
    # Outcome draws by systematic sampling along the cases sorted by the breakdowns the paper
    # reports: sample first, then letters sent alone (about 50 sample cases), the violation
    # group (professional restrictions, about 8; administrative harassment, about 14),
    # conviction (about 40), year (Figure 7: about 35 a year), detention. Each case keeps its
    # own probability, and each of these breakdowns carries at most a few cases of draw noise.
    violation_group = np.where(
        violations[:, _V["professional_restriction"]],
        2,
        np.where(violations[:, _V["administrative_harassment"]], 1, 0),
    )
    keys = (
        violations[:, _V["detention"]],
        case_year,
        violations[:, _V["conviction"]],
        violation_group,
        n_mandates == 1,
        in_sample,
    )
    improved = _systematic_draws(rng, p_draw, keys)
    worse = ~improved & _systematic_draws(rng, p_worse, keys, ~improved)
    mixed = ~improved & ~worse & _systematic_draws(rng, p_mixed, keys, ~improved & ~worse)
    outcome = np.full(len(taken), "same", dtype=object)
    outcome[improved] = np.where(
        rng.random(int(improved.sum())) < 0.35, "much_better", "somewhat_better"
    )
    outcome[worse] = np.where(rng.random(int(worse.sum())) < 0.145, "much_worse", "somewhat_worse")
    outcome[mixed] = "mixed"

    assessment = np.full(len(taken), None, dtype=object)
    assessment[found] = "online"
    assessment[sample.surveyed] = "survey"
    impact = _survey_answers(rng, sample.surveyed, outcome, improved, worse, scale)
    if outcomes == "all":
        assessment[assessment == None] = "systematic"  # noqa: E711
    assessed = assessment != None  # noqa: E711
    table = pd.DataFrame(
        {
            "case_id": case_id[assessed],
            "outcome": outcome[assessed],
            "assessment": assessment[assessed],
            "survey_impact": impact[assessed],
        }
    )
    return CaseOutcomes(
        truth=TruthModel(intercept=intercept, effects=effects, country_effect=country_effect),
        p_improve=p_improve,
        improved=improved,
        table=table,
    )
