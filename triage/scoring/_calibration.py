"""Probability calibrators that map the booster's raw probability to a calibrated one.

Every kind is *strictly* increasing and continuous. Strictness is what lets the calibrated score
rank: a step function gives hundreds of queue cases one shared score, and the allocation would
then decide among them by something other than the model. Continuity is what the SHAP folding in
``triage.explain`` relies on.

- ``sigmoid`` (Platt): ``σ(a · logit(p) + b)`` with ``a > 0``, linear in the log-odds;
- ``isotonic``: the pool-adjacent-violators fit, read as one knot per pooled block (the block's
  mean log-odds, its rate) and interpolated linearly in the log-odds between the knots. Block
  rates strictly increase, so the map does too; beyond the outer knots it continues with slope
  one in the log-odds (the raw odds ratio is kept), so the tails do not flatten either;
- ``identity``: the raw probability unchanged, when validation shows the booster (trained on
  log loss, often from a linear start) is already better calibrated than either fit.

Models written before the strict isotonic map carry ``"interpolation": "steps"`` implicitly and
keep their old behaviour (linear between the step thresholds) when loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.special import expit
from scipy.special import logit as scipy_logit

from triage._validation import check_params, one_of

_CONSTRAINTS = {
    "interpolation": one_of(("knots", "steps"), words="'knots' or 'steps'"),
    "kind": one_of(
        ("sigmoid", "isotonic", "identity"), words="'sigmoid', 'isotonic' or 'identity'"
    ),
}

__all__ = ["Calibrator", "CalibratorKind", "fit_calibrator", "logit", "sigmoid"]

CalibratorKind = Literal["sigmoid", "isotonic", "identity"]
_EPS = 1e-6


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function (``scipy.special.expit``), numerically safe for large ``|z|``."""
    return expit(z)


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of ``p`` clipped to ``[1e-6, 1 - 1e-6]`` (``scipy.special.logit``)."""
    return scipy_logit(np.clip(p, _EPS, 1 - _EPS))


@dataclass(frozen=True)
class Calibrator:
    """A fitted monotone calibrator (see the module docstring for the two kinds)."""

    kind: CalibratorKind
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = field(default=())
    y: tuple[float, ...] = field(default=())
    #: ``"knots"``: strictly increasing map through the block knots (see the module docstring);
    #: ``"steps"``: the legacy reading, linear between the step thresholds (flat runs).
    interpolation: Literal["knots", "steps"] = "knots"

    def __call__(self, p_raw: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for raw booster probabilities."""
        p_raw = np.asarray(p_raw, dtype=float)
        if self.kind == "identity":
            return p_raw.copy()
        if self.kind == "sigmoid":
            return sigmoid(self.a * logit(p_raw) + self.b)
        if self.interpolation == "steps":
            return np.interp(p_raw, np.asarray(self.x), np.asarray(self.y))
        zx, zy = logit(np.asarray(self.x)), logit(np.asarray(self.y))
        z = logit(p_raw)
        inner = np.interp(z, zx, zy)
        # Slope one in the log-odds beyond the outer knots keeps the map strictly increasing.
        out = np.where(
            z < zx[0], zy[0] + (z - zx[0]), np.where(z > zx[-1], zy[-1] + (z - zx[-1]), inner)
        )
        return sigmoid(out)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready parameters."""
        if self.kind == "identity":
            return {"kind": "identity"}
        if self.kind == "sigmoid":
            return {"kind": "sigmoid", "a": self.a, "b": self.b}
        return {
            "kind": "isotonic",
            "interpolation": self.interpolation,
            "x": list(self.x),
            "y": list(self.y),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild a calibrator written by ``to_dict``."""
        if data["kind"] == "identity":
            return cls("identity")
        if data["kind"] == "sigmoid":
            return cls("sigmoid", a=float(data["a"]), b=float(data["b"]))
        interpolation = data.get("interpolation", "steps")
        check_params(_CONSTRAINTS, interpolation=interpolation)
        return cls(
            "isotonic",
            x=tuple(map(float, data["x"])),
            y=tuple(map(float, data["y"])),
            interpolation=interpolation,
        )


def _intercept_shift(z: np.ndarray, y: np.ndarray) -> float:
    """Solve ``mean(σ(z + b)) = mean(y)`` for ``b`` by Newton's method."""
    b = 0.0
    target = float(np.clip(np.mean(y), 1e-4, 1 - 1e-4))
    for _ in range(50):
        p = sigmoid(z + b)
        step = (float(np.mean(p)) - target) / max(float(np.mean(p * (1 - p))), 1e-9)
        b -= step
        if abs(step) < 1e-12:
            break
    return b


def fit_calibrator(p_raw: np.ndarray, y: np.ndarray, *, kind: CalibratorKind) -> Calibrator:
    """Fit a calibrator of ``kind`` on raw probabilities and 0/1 labels."""
    check_params(_CONSTRAINTS, kind=kind)
    if kind == "identity":
        return Calibrator("identity")
    p_raw = np.asarray(p_raw, dtype=float)
    y = np.asarray(y, dtype=float)
    if kind == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        # Nearly unpenalised Platt scaling on the log-odds.
        z = logit(p_raw)
        lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
        lr.fit(z.reshape(-1, 1), y)
        a = float(lr.coef_[0, 0])
        if a > 1e-3:
            return Calibrator("sigmoid", a=a, b=float(lr.intercept_[0]))
        # A calibrator must never reverse the ranking: when the held-out predictions carry no
        # positive signal, only shift the log-odds so the mean matches (slope fixed at 1).
        return Calibrator("sigmoid", a=1.0, b=_intercept_shift(z, y))
    return _isotonic_knots(p_raw, y)


def _isotonic_knots(p_raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """Pool adjacent violators, then one knot per pooled block: (mean log-odds, block rate).

    Knots sit at the blocks' centres rather than their edges, so the map interpolates between
    neighbouring rates instead of holding each rate flat across its block.
    """
    from sklearn.isotonic import IsotonicRegression

    z = logit(p_raw)
    iso = IsotonicRegression(increasing=True, out_of_bounds="clip")
    fitted = iso.fit_transform(z, y)
    order = np.argsort(z, kind="stable")
    zs, fs = z[order], fitted[order]
    # A block is a run of equal fitted values; equal raw log-odds always share one.
    starts = np.flatnonzero(np.concatenate([[True], np.diff(fs) != 0]))
    centres = np.add.reduceat(zs, starts) / np.diff(np.concatenate([starts, [len(zs)]]))
    rates = fs[starts]
    # Rates of 0 or 1 would be infinite log-odds; keep them inside (0, 1) and strictly apart.
    lo, hi = 1e-3, 1 - 1e-3
    rates = np.clip(rates, lo, hi)
    keep = np.concatenate([[True], np.diff(rates) > 0])
    centres, rates = centres[keep], rates[keep]
    return Calibrator(
        "isotonic",
        x=tuple(sigmoid(centres).tolist()),
        y=tuple(rates.tolist()),
        interpolation="knots",
    )
