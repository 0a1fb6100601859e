"""Probability calibrators that map the booster's raw probability to a calibrated one.

Both are monotone and continuous, which the SHAP folding in ``triage.explain`` relies on:

- ``sigmoid`` (Platt): ``σ(a · logit(p) + b)``, linear in the log-odds;
- ``isotonic``: a non-decreasing step fit, interpolated linearly between its thresholds;
- ``identity``: the raw probability unchanged, when validation shows the booster (trained on
  log loss, often from a linear start) is already better calibrated than either fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["Calibrator", "CalibratorKind", "fit_calibrator", "logit", "sigmoid"]

CalibratorKind = Literal["sigmoid", "isotonic", "identity"]
_EPS = 1e-6


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, numerically safe for large ``|z|``."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of ``p`` clipped to ``[1e-6, 1 - 1e-6]``."""
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.log(q / (1 - q))


@dataclass(frozen=True)
class Calibrator:
    """A fitted monotone calibrator (see the module docstring for the two kinds)."""

    kind: CalibratorKind
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = field(default=())
    y: tuple[float, ...] = field(default=())

    def __call__(self, p_raw: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for raw booster probabilities."""
        p_raw = np.asarray(p_raw, dtype=float)
        if self.kind == "identity":
            return p_raw.copy()
        if self.kind == "sigmoid":
            return sigmoid(self.a * logit(p_raw) + self.b)
        return np.interp(p_raw, np.asarray(self.x), np.asarray(self.y))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready parameters."""
        if self.kind == "identity":
            return {"kind": "identity"}
        if self.kind == "sigmoid":
            return {"kind": "sigmoid", "a": self.a, "b": self.b}
        return {"kind": "isotonic", "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild a calibrator written by ``to_dict``."""
        if data["kind"] == "identity":
            return cls("identity")
        if data["kind"] == "sigmoid":
            return cls("sigmoid", a=float(data["a"]), b=float(data["b"]))
        return cls("isotonic", x=tuple(map(float, data["x"])), y=tuple(map(float, data["y"])))


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
    if kind not in ("sigmoid", "isotonic", "identity"):
        raise ValueError(
            f"`kind` must be 'sigmoid', 'isotonic' or 'identity'. Got {kind!r} instead."
        )
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
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
    iso.fit(p_raw, y)
    xs = np.asarray(iso.X_thresholds_, dtype=float)
    ys = np.asarray(iso.y_thresholds_, dtype=float)
    # Keep the calibrated probability strictly inside (0, 1) so log loss stays finite.
    ys = np.clip(ys, 1e-3, 1 - 1e-3)
    return Calibrator("isotonic", x=tuple(xs.tolist()), y=tuple(ys.tolist()))
