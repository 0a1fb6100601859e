"""The trained model: a LightGBM booster, its calibrator and a bootstrap ensemble for intervals.

Artifacts in ``models/<version>/``:

- ``model.txt``: the LightGBM booster (text format);
- ``linear.json``: the linear start the booster corrects (``null`` when the trees start from the
  base rate), see ``triage.scoring._linear``;
- ``ensemble.json.gz``: the bootstrap boosters (interval members), gzip without a timestamp;
- ``calibrator.json``: the calibrator (``sigmoid`` or ``isotonic``);
- ``features.json``: feature list, categorical and monotone features, hyper-parameters;
- ``training.json``: training-data hash, sizes, split years, seed;
- ``metrics.json``; ``reliability.svg``; ``MODEL_CARD.md``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from triage.config import models_dir
from triage.errors import InputFileError, TriageError
from triage.scoring._calibration import Calibrator, logit, sigmoid
from triage.scoring._linear import LinearOffset

if TYPE_CHECKING:
    import lightgbm as lgb

    from triage.schema import History

__all__ = ["ARTIFACT_FILES", "TriageModel", "interval", "load_model", "what_if"]

#: Files whose bytes define the model (hashed into ``TriageModel.sha256``).
ARTIFACT_FILES = (
    "model.txt",
    "linear.json",
    "ensemble.json.gz",
    "calibrator.json",
    "features.json",
)


def interval(
    score: np.ndarray,
    draws: np.ndarray | None,
    *,
    level: float,
    context_sd: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` interval around each score, on the log-odds scale, from two sources.

    - estimation: the spread of the bootstrap members' scores (``draws``, one column per member),
      read as a normal standard deviation ``(logit q_hi − logit q_lo) / (2 z)``;
    - context: ``context_sd``, how much the log-odds of cases sharing a year or a country move
      together beyond what the features say (a case's year climate and its country's own
      effect are unknown to the score; estimated at training time, see ``triage.scoring``).

    They add in variance; the interval is ``logit(score) ± z · sd``, so it always holds the
    score.
    """
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    centre = logit(np.asarray(score, dtype=float))
    var = np.full(len(centre), float(context_sd) ** 2)
    if draws is not None and draws.shape[1] > 1:
        alpha = (1.0 - level) / 2.0
        lo = logit(np.quantile(draws, alpha, axis=1))
        hi = logit(np.quantile(draws, 1.0 - alpha, axis=1))
        var = var + ((hi - lo) / (2.0 * z)) ** 2
    half = z * np.sqrt(var)
    return sigmoid(centre - half), sigmoid(centre + half)


@dataclass
class TriageModel:
    """A calibrated improvement model with bootstrap intervals.

    Attributes
    ----------
    booster : lightgbm.Booster
        The point model's trees (raw log-odds via ``raw_score``, on top of ``linear``).
    linear : LinearOffset or None
        The linear log-odds the trees start from (``None``: they start from the base rate).
    members : list of lightgbm.Booster
        Bootstrap boosters; the interval is the ``level`` central range of their calibrated scores.
    member_calibrators : list of Calibrator
        One calibrator per member (fitted on its out-of-bag rows); empty means ``calibrator``.
    member_linears : list of LinearOffset or None
        The linear start of each member (empty: none).
    context_sd : float
        Standard deviation of the log-odds effects shared by the cases of one year or one
        country that the score misses; added to the interval (see ``interval``).
    calibrator : Calibrator
        Maps the booster's raw probability to the calibrated score.
    features : tuple of str
        Feature columns in model order.
    level : float
        Nominal level of the interval (e.g. 0.9).
    version : str
        Folder name of the artifacts (``"default"``), or ``"unsaved"``.
    sha256 : str
        Hash of the artifact files (``ARTIFACT_FILES``).
    metrics : dict
        The metrics written at training time.
    """

    booster: lgb.Booster
    members: list[lgb.Booster]
    calibrator: Calibrator
    features: tuple[str, ...]
    member_calibrators: list[Calibrator] = field(default_factory=list)
    linear: LinearOffset | None = None
    member_linears: list[LinearOffset | None] = field(default_factory=list)
    context_sd: float = 0.0
    level: float = 0.9
    version: str = "unsaved"
    sha256: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    _explainer: Any = field(default=None, repr=False, compare=False)

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        # One contiguous float matrix for every booster: pandas conversion per call is slow.
        return np.ascontiguousarray(X.loc[:, list(self.features)].to_numpy(dtype=np.float64))

    def raw_log_odds(self, X: pd.DataFrame) -> np.ndarray:
        """Return the model's raw log-odds (linear start + trees) for a feature frame."""
        return self._raw(self.booster, self.linear, self._matrix(X), X)

    @staticmethod
    def _raw(
        booster: Any, linear: LinearOffset | None, A: np.ndarray, X: pd.DataFrame | np.ndarray
    ) -> np.ndarray:
        raw = np.asarray(booster.predict(A, raw_score=True, num_threads=0), dtype=float)
        return raw if linear is None else raw + linear.log_odds(X)

    def calibrate_log_odds(self, raw: np.ndarray) -> np.ndarray:
        """Map raw log-odds to calibrated probability."""
        return self.calibrator(sigmoid(np.asarray(raw, dtype=float)))

    def predict_features(self, X: pd.DataFrame) -> pd.DataFrame:
        """Score a feature frame: columns score, lower, upper (calibrated probabilities in [0, 1])."""
        score, draws = self._score_and_members(X)
        lower, upper = interval(score, draws, level=self.level, context_sd=self.context_sd)
        return pd.DataFrame({"score": score, "lower": lower, "upper": upper}, index=X.index)

    def member_scores(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated score of each case under each bootstrap member: an (n cases, n members) array.

        Each member is the whole pipeline refitted on a resample of the labelled cases, so the
        columns are plausible alternatives to the score; ``triage.allocate.selection_chances``
        re-solves the allocation under each of them. Empty (n, 0) when the model has no members.
        """
        _, draws = self._score_and_members(X, point=False)
        return np.empty((len(X), 0)) if draws is None else draws

    def _score_and_members(
        self, X: pd.DataFrame, *, point: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        A = self._matrix(X)
        # Every linear start uses the same columns: slice them once, not once per member.
        L: pd.DataFrame | np.ndarray = X
        if self.linear is not None:
            L = X.loc[:, list(self.linear.columns)].to_numpy(dtype=np.float64)
        score = (
            self.calibrate_log_odds(self._raw(self.booster, self.linear, A, L))
            if point
            else np.empty(0)
        )
        draws: np.ndarray | None = None
        if self.members:
            draws = np.column_stack(
                [
                    c(sigmoid(self._raw(m, lin, A, L if self._same_columns(lin) else X)))
                    for m, c, lin in zip(
                        self.members,
                        self._member_calibrators(),
                        self._member_linears(),
                        strict=True,
                    )
                ]
            )
        return score, draws

    def _member_calibrators(self) -> list[Calibrator]:
        if len(self.member_calibrators) == len(self.members):
            return list(self.member_calibrators)
        return [self.calibrator] * len(self.members)

    def _same_columns(self, lin: LinearOffset | None) -> bool:
        return lin is not None and self.linear is not None and lin.columns == self.linear.columns

    def _member_linears(self) -> list[LinearOffset | None]:
        if len(self.member_linears) == len(self.members):
            return list(self.member_linears)
        return [None] * len(self.members)

    def predict(
        self, cases: pd.DataFrame, history: History, *, features: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Score cases: case_id, score, lower, upper (probability of improvement within a year).

        Parameters
        ----------
        cases : DataFrame
            Cases in the vocabulary of ``cases.csv`` or ``queue.csv``.
        history : History
            What was known; only history dated before each case is used.
        features : DataFrame, optional
            ``build_features(cases, history)`` when the caller already has it (saves rebuilding
            it for ``explain``).

        Returns
        -------
        DataFrame
            One row per case in the input order, with a fresh ``RangeIndex``.
        """
        from triage.features import build_features

        X = build_features(cases, history) if features is None else features
        out = self.predict_features(X)
        out.insert(0, "case_id", cases["case_id"].astype(str).to_numpy())
        return out.reset_index(drop=True)

    def save(self, out_dir: str | Path) -> str:
        """Write the model artifacts (``ARTIFACT_FILES``) and return their combined sha256."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.txt").write_text(self.booster.model_to_string(), encoding="utf-8")
        cals = self._member_calibrators()
        payload = json.dumps(
            [
                {
                    "model": m.model_to_string(),
                    "calibrator": c.to_dict(),
                    "linear": None if lin is None else lin.to_dict(),
                }
                for m, c, lin in zip(self.members, cals, self._member_linears(), strict=True)
            ],
            sort_keys=True,
        ).encode("utf-8")
        # mtime=0 keeps the file byte-identical across runs.
        with (
            (out / "ensemble.json.gz").open("wb") as fh,
            gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz,
        ):
            gz.write(payload)
        _write_json(out / "calibrator.json", self.calibrator.to_dict())
        _write_json(out / "linear.json", None if self.linear is None else self.linear.to_dict())
        features_meta = dict(self.metrics.get("_features_meta", {}))
        features_meta.update(
            {
                "features": list(self.features),
                "level": self.level,
                "context_sd": self.context_sd,
            }
        )
        _write_json(out / "features.json", features_meta)
        self.sha256 = artifact_sha256(out)
        self.version = out.name
        return self.sha256


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def artifact_sha256(folder: Path) -> str:
    """Hash the artifact files of a model folder in a fixed order."""
    digest = hashlib.sha256()
    for name in ARTIFACT_FILES:
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def load_model(path: str | Path | None = None) -> TriageModel:
    """Load a trained model folder (default ``models/default``).

    Raises
    ------
    TriageError
        If the folder or one of its artifacts is missing or unreadable.
    """
    import lightgbm as lgb

    folder = Path(path) if path is not None else models_dir() / "default"
    if not folder.is_dir():
        raise TriageError(
            f"{folder}: no such model folder. Train one with `triage train --out {folder}`."
        )
    for name in ARTIFACT_FILES:
        if not (folder / name).is_file():
            raise InputFileError(f"{folder / name}: model artifact is missing; retrain the model.")
    try:
        booster = lgb.Booster(model_str=(folder / "model.txt").read_text(encoding="utf-8"))
        with gzip.open(folder / "ensemble.json.gz", "rb") as fh:
            entries = json.loads(fh.read().decode("utf-8"))
        members = [lgb.Booster(model_str=e["model"]) for e in entries]
        member_cals = [Calibrator.from_dict(e["calibrator"]) for e in entries]
        member_lins = [
            None if e.get("linear") is None else LinearOffset.from_dict(e["linear"])
            for e in entries
        ]
        lin_data = json.loads((folder / "linear.json").read_text())
        linear = None if lin_data is None else LinearOffset.from_dict(lin_data)
        calibrator = Calibrator.from_dict(json.loads((folder / "calibrator.json").read_text()))
        meta = json.loads((folder / "features.json").read_text())
        metrics_path = folder / "metrics.json"
        metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    except (OSError, ValueError, KeyError, lgb.basic.LightGBMError) as exc:
        raise InputFileError(f"{folder}: model artifacts cannot be read ({exc}).") from exc
    features = tuple(meta["features"])
    if tuple(booster.feature_name()) != features:
        raise InputFileError(f"{folder}: model.txt and features.json disagree on the feature list.")
    return TriageModel(
        booster=booster,
        members=members,
        member_calibrators=member_cals,
        member_linears=member_lins,
        linear=linear,
        calibrator=calibrator,
        features=features,
        level=float(meta.get("level", 0.9)),
        context_sd=float(meta.get("context_sd", 0.0)),
        version=folder.name,
        sha256=artifact_sha256(folder),
        metrics=metrics,
    )


def what_if(
    model: TriageModel,
    case_row: pd.Series | pd.DataFrame,
    history: History,
    *,
    n_mandates: Sequence[int] = (1, 2, 3, 4, 5),
) -> pd.DataFrame:
    """Score one case under different planned numbers of mandates: n_mandates, score, lower, upper.

    ``n_mandates = 1`` is the HRD mandate alone. For a queue case, more mandates mean a longer
    expected drafting delay, so ``days_since_incident`` grows with them (see ``triage.features``).
    A historical case (with ``sent_date``) keeps its observed delay; only ``n_mandates`` changes.
    """
    row = case_row.to_frame().T.infer_objects() if isinstance(case_row, pd.Series) else case_row
    if len(row) != 1:
        raise ValueError(f"`case_row` must be a single case. Got {len(row)} rows instead.")
    values = [int(n) for n in n_mandates]
    if not values or min(values) < 1:
        raise ValueError(f"`n_mandates` must be positive integers. Got {list(n_mandates)} instead.")
    frame = pd.concat([row] * len(values), ignore_index=True)
    case_id = str(row["case_id"].iloc[0])
    # Distinct ids for the variants; the caller sees the case's own id on every row.
    frame["case_id"] = [f"{case_id}#{n}" for n in values]
    frame["n_mandates"] = pd.array(values, dtype="Int64")
    scored = model.predict(frame, history)
    scored["case_id"] = case_id
    scored.insert(1, "n_mandates", values)
    return scored
