"""The truth's one non-additive part: a U-shaped effect of a state's engagement."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from triage.synth._improvement import _ENGAGEMENT_U, _engagement_effect

_logits = arrays(
    float,
    st.integers(3, 60),
    elements=st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
).filter(lambda a: a.std() > 1e-3)


@given(_logits)
@settings(max_examples=60, deadline=None)
def test_engagement_effect_is_u_shaped_bounded_and_centred(reply: np.ndarray) -> None:
    eff = _engagement_effect(reply)
    z = (reply - reply.mean()) / reply.std()
    assert np.all(eff >= -_ENGAGEMENT_U - 1e-12) and np.all(eff <= 3 * _ENGAGEMENT_U + 1e-12)
    # Falls toward the average engagement, rises away from it on both sides (not monotone).
    order = np.argsort(np.abs(z))
    assert np.all(np.diff(eff[order]) >= -1e-9)
    # Zero on average before the cap; the cap only lowers it.
    assert eff.mean() <= 1e-9


def test_engagement_effect_rewards_both_ends_over_the_middle() -> None:
    eff = _engagement_effect(np.array([-3.0, -1.5, 0.0, 0.0, 0.0, 1.5, 3.0]))
    assert eff[0] > eff[2] < eff[-1]
    assert eff[0] == eff[-1]


@given(arrays(float, st.integers(1, 40), elements=st.floats(-8, 8, allow_nan=False)))
@settings(max_examples=40, deadline=None)
def test_truth_averages_the_hidden_term_out(lin: np.ndarray) -> None:
    """truth.csv's p_improve is E_h sigmoid(lin + h), h ~ N(0, hidden sd): checked by Monte Carlo."""
    from triage.synth._improvement import _HIDDEN_SD, _marginal_improve

    h = np.random.default_rng(0).normal(0.0, _HIDDEN_SD, 200_000)
    expected = np.array([np.mean(1 / (1 + np.exp(-(v + h)))) for v in lin])
    got = _marginal_improve(lin)
    assert np.allclose(got, expected, atol=3e-3)
    # Averaging over the luck pulls every chance toward one half, never across it.
    p_plain = 1 / (1 + np.exp(-lin))
    assert np.all(np.abs(got - 0.5) <= np.abs(p_plain - 0.5) + 1e-12)
