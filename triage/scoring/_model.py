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
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from triage.config import models_dir
from triage.errors import InputFileError, TriageError
from triage.scoring._calibration import Calibrator, sigmoid
from triage.scoring._interval import (
    interval,
    interval_bounds,
    interval_sd,
    known_country_outcomes,
)
from triage.scoring._linear import LinearOffset

if TYPE_CHECKING:
    import lightgbm as lgb

    from triage.schema import History

__all__ = [
    "ARTIFACT_FILES",
    "TriageModel",
    "interval",
    "interval_bounds",
    "interval_sd",
    "known_country_outcomes",
    "load_model",
    "what_if",
]

#: Files whose bytes define the model (hashed into ``TriageModel.sha256``).
ARTIFACT_FILES = (
    "model.txt",
    "linear.json",
    "ensemble.json.gz",
    "calibrator.json",
    "features.json",
)


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
        A flat log-odds sd added to every case's interval (models trained before the per-case
        terms below; 0 for newer ones).
    year_sd : float
        Sd of the year's climate the score misses (shared by all cases of a year).
    country_sd : float
        Sd of the country effect the score misses for a country with no known outcome; with
        ``n`` of its outcomes known the variance is ``country_sd² · country_k / (country_k + n)``
        (see ``context_sd_of``).
    country_k : float
        Pseudo-count of that shrinkage (the country improvement rate's, ``SHRINK["improve"]``).
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
    year_sd: float = 0.0
    country_sd: float = 0.0
    country_k: float = 20.0
    level: float = 0.9
    version: str = "unsaved"
    sha256: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    #: The artifact sha256 its card (MODEL_CARD.md, metrics.json) states, if any.
    card_sha256: str = ""
    #: ``verified`` (artifacts match the card), ``no card`` or ``MISMATCH ...`` (allowed only
    #: when asked for; recorded with every run).
    integrity: str = "no card"
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

    def context_sd_of(self, n_known: np.ndarray) -> np.ndarray:
        """Per-case log-odds sd of the effects the score misses (the interval's context term).

        ``n_known``: outcomes of the case's country known before its date
        (``known_country_outcomes``). The year's climate adds ``year_sd²``; the country's own
        effect adds ``country_sd² · k / (k + n)``: the more of its outcomes were known, the
        more of it the country's improvement rate (a feature) already carries.
        """
        n = np.clip(np.asarray(n_known, dtype=float), 0.0, None)
        k = max(float(self.country_k), 1e-9)
        var = self.context_sd**2 + self.year_sd**2 + self.country_sd**2 * k / (k + n)
        return np.sqrt(var)

    def predict_features(
        self, X: pd.DataFrame, *, n_known: np.ndarray | None = None
    ) -> pd.DataFrame:
        """Score a feature frame: columns score, lower, upper (calibrated probabilities in [0, 1]).

        ``n_known`` (one per row): outcomes of the case's country known before its date
        (``known_country_outcomes``); without it every case gets the widest country term
        (none known).
        """
        score, draws = self._score_and_members(X)
        return self._scored_frame(X, score, draws, n_known)

    def _scored_frame(
        self,
        X: pd.DataFrame,
        score: np.ndarray,
        draws: np.ndarray | None,
        n_known: np.ndarray | None,
    ) -> pd.DataFrame:
        """score, lower, upper of each row of ``X`` from its score and member draws."""
        sd = self._sd(score, draws, n_known)
        lower, upper = interval_bounds(score, sd, level=self.level)
        return pd.DataFrame({"score": score, "lower": lower, "upper": upper}, index=X.index)

    def score_sd(
        self, X: pd.DataFrame, *, n_known: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The score and the interval's total log-odds sd of each row (see ``interval``)."""
        score, draws = self._score_and_members(X)
        return score, self._sd(score, draws, n_known)

    def _sd(
        self, score: np.ndarray, draws: np.ndarray | None, n_known: np.ndarray | None
    ) -> np.ndarray:
        n = np.zeros(len(score)) if n_known is None else np.asarray(n_known, dtype=float)
        return interval_sd(draws, n=len(score), level=self.level, context_sd=self.context_sd_of(n))

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
            parts = list(
                zip(self.members, self._member_calibrators(), self._member_linears(), strict=True)
            )
            # Each member's linear columns as a matrix, sliced here once: the threads below
            # then only read arrays, never the frame.
            inputs = [
                L
                if self._same_columns(lin) or lin is None
                else X.loc[:, list(lin.columns)].to_numpy(dtype=np.float64)
                for _, _, lin in parts
            ]

            def member(i: int) -> np.ndarray:
                booster, calibrate, lin = parts[i]
                return np.asarray(calibrate(sigmoid(self._raw(booster, lin, A, inputs[i]))))

            # Two threads: the trees and the array arithmetic release the GIL; the columns
            # are stacked in the members' order, so the draws do not depend on the timing.
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="triage-members") as pool:
                draws = np.column_stack(list(pool.map(member, range(len(parts)))))
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
        return self.predict_with_members(cases, history, features=features)[0]

    def predict_with_members(
        self, cases: pd.DataFrame, history: History, *, features: pd.DataFrame | None = None
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """``predict`` and ``member_scores`` of the same cases from one pass over the members.

        Returns
        -------
        tuple of (DataFrame, ndarray)
            ``predict``'s frame (case_id, score, lower, upper: probabilities in [0, 1]) and the
            (n cases, n members) array of calibrated member scores, rows in the input order.
        """
        from triage.features import build_features

        X = build_features(cases, history) if features is None else features
        score, draws = self._score_and_members(X)
        out = self._scored_frame(X, score, draws, known_country_outcomes(cases, history))
        out.insert(0, "case_id", cases["case_id"].astype(str).to_numpy())
        members = np.empty((len(X), 0)) if draws is None else draws
        return out.reset_index(drop=True), members

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
                "year_sd": self.year_sd,
                "country_sd": self.country_sd,
                "country_k": self.country_k,
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


def card_sha256(folder: Path) -> list[str]:
    """The artifact sha256 values a model folder's card states (MODEL_CARD.md, metrics.json)."""
    import re

    stated: list[str] = []
    card = folder / "MODEL_CARD.md"
    if card.is_file():
        found = re.search(
            r"Model artifacts sha256:\s*`([0-9a-f]{64})`", card.read_text(encoding="utf-8")
        )
        if found:
            stated.append(found.group(1))
    metrics = folder / "metrics.json"
    if metrics.is_file():
        try:
            value = json.loads(metrics.read_text(encoding="utf-8")).get("model_sha256")
        except (OSError, ValueError, AttributeError):
            value = None
        if isinstance(value, str) and value:
            stated.append(value)
    return stated


def load_model(path: str | Path | None = None, *, allow_mismatch: bool = False) -> TriageModel:
    """Load a trained model folder (default ``models/default``).

    The artifacts are hashed and checked against the sha256 the model's card states: a model
    whose artifacts were changed after training is refused, unless ``allow_mismatch`` (or
    ``TRIAGE_ALLOW_MODEL_MISMATCH=1``) lets it load flagged (``.integrity`` says MISMATCH and
    every run records it).

    Raises
    ------
    TriageError
        If the folder or one of its artifacts is missing or unreadable, or the artifacts do not
        match the card.
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
    actual = artifact_sha256(folder)
    stated = card_sha256(folder)
    integrity = "no card" if not stated else "verified"
    if any(s != actual for s in stated):
        wrong = next(s for s in stated if s != actual)
        integrity = f"MISMATCH: artifacts {actual[:16]}, card {wrong[:16]}"
        allowed = allow_mismatch or os.environ.get("TRIAGE_ALLOW_MODEL_MISMATCH", "") == "1"
        if not allowed:
            raise InputFileError(
                f"{folder}: the model artifacts (sha256 {actual[:16]}) do not match the sha256 "
                f"in its card ({wrong[:16]}): they were changed after training. Restore or "
                "retrain the model."
            )
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
        year_sd=float(meta.get("year_sd", 0.0)),
        country_sd=float(meta.get("country_sd", 0.0)),
        country_k=float(meta.get("country_k", 20.0)),
        version=folder.name,
        sha256=actual,
        metrics=metrics,
        card_sha256=stated[0] if stated else "",
        integrity=integrity,
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
