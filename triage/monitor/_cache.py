"""The app's first-page cache: queue scores, SHAP reasons and policy reasons, keyed by content.

``triage demo prepare`` scores and explains the incoming queue once and stores the result in
``var/cache/first-page.json``; the app's first Queue load reads it instead of parsing the model,
importing SHAP and rebuilding the history. The cache is served only when its key matches:

- the scores key hashes the model artifacts' sha256, every submission with its current status
  (row order ignored) and the row count of every registry table, so a new model, a new or
  re-decided submission, or any new history row (reply, outcome, communication) misses;
- the selection reasons are served only for the policy whose sha256 they were computed under.

On a miss the app recomputes as before; nothing stale is ever shown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import numpy as np
import pandas as pd

from triage._validation import Constraint, check_params, instance_of
from triage.config import var_dir

_CONSTRAINTS = {
    "frame": instance_of(pd.DataFrame, "a pandas DataFrame"),
    "model_sha256": Constraint(lambda v: isinstance(v, str) and bool(v), "a non-empty str"),
}

if TYPE_CHECKING:
    from triage.registry import Registry

__all__ = [
    "CACHE_FORMAT",
    "FirstPage",
    "build_first_page",
    "current_key",
    "first_page_key",
    "first_page_path",
    "frame_fingerprint",
    "model_sha256",
    "read_first_page",
    "write_first_page",
]

#: Bumped whenever the stored layout or its meaning changes: older files then simply miss.
CACHE_FORMAT = 2

#: Statuses of incoming cases a selection decides (the allocator's candidates).
_CANDIDATE_STATUSES = ("eligible", "selected", "not_selected")

_SCORE_COLUMNS = ("case_id", "score", "lower", "upper")
_REASON_COLUMNS = ("case_id", "rank", "text")
_SELECTION_COLUMNS = (
    "case_id",
    "selected",
    "reason",
    "score_to_enter",
    "displaced_by",
    "p_selected",
    "chance",
)


def first_page_path() -> Path:
    """Where the first-page cache lives: ``var/cache/first-page.json`` (machine-local)."""
    return var_dir() / "cache" / "first-page.json"


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names, dtypes and cell values, independent of row order.

    Each row is hashed on its values (``pandas.util.hash_pandas_object``, index ignored); the
    row hashes are sorted, so shuffling rows keeps the fingerprint while any changed,
    added or removed cell or column changes it.
    """
    check_params(_CONSTRAINTS, frame=frame)
    digest = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    if len(frame) and len(frame.columns):
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
        digest.update(np.sort(rows).tobytes())
    digest.update(f"rows={len(frame)}".encode())
    return digest.hexdigest()


def first_page_key(
    *, model_sha256: str, submissions: pd.DataFrame, counts: Mapping[str, int]
) -> str:
    """The scores key: SHA-256 over the format, the model, the submissions and the table counts.

    Parameters
    ----------
    model_sha256 : str
        ``TriageModel.sha256`` (the artifact files' hash) of the model that scores.
    submissions : DataFrame
        Every submission with its status (``Registry.queue(statuses=STATUSES,
        with_status=True)``): a new submission or a changed status changes the key.
    counts : mapping of str to int
        ``Registry.counts()``: rows per registry table, so new history rows change the key.
    """
    check_params(_CONSTRAINTS, model_sha256=model_sha256)
    payload = {
        "format": CACHE_FORMAT,
        "model_sha256": model_sha256,
        "submissions": frame_fingerprint(submissions),
        "counts": {str(k): int(v) for k, v in sorted(counts.items())},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FirstPage:
    """What the first Queue page needs, computed once: scores, reasons, the policy's decisions.

    Attributes
    ----------
    key : str
        ``first_page_key`` of the registry and model the content was computed from.
    simulated : bool
        Whether the registry holds simulated data (the banner).
    model_version : str
        The model's version (its folder name).
    scores : DataFrame
        case_id, score, lower, upper (probabilities 0-1) for every incoming case.
    reasons : DataFrame
        case_id, rank, text: the top three SHAP reasons of every incoming case.
    policy_sha256 : str
        ``Policy.sha256`` of the policy ``selection`` was computed under.
    selection : DataFrame
        ``explain_selection`` of the candidates under that policy: case_id, selected, reason,
        score_to_enter, displaced_by, and each case's chance of selection under the model's
        bootstrap replicates (``selection_chances``): p_selected (0-1) and chance (in words).
    """

    key: str
    simulated: bool
    model_version: str
    scores: pd.DataFrame
    reasons: pd.DataFrame
    policy_sha256: str
    selection: pd.DataFrame

    def selection_for(self, policy_sha256: str) -> pd.DataFrame | None:
        """The stored policy reasons if they were computed under ``policy_sha256``, else None."""
        return self.selection.copy() if policy_sha256 == self.policy_sha256 else None


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[list[Any]]:
    out = frame.loc[:, list(columns)].astype(object)
    return [[None if pd.isna(v) else v for v in row] for row in out.itertuples(index=False)]


def write_first_page(page: FirstPage, path: Path | None = None) -> Path:
    """Write ``page`` as JSON (byte-identical for identical content) and return the file.

    The file is written next to its final place and renamed, so a reader never sees half a file.
    """
    target = first_page_path() if path is None else Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": CACHE_FORMAT,
        "key": page.key,
        "simulated": bool(page.simulated),
        "model_version": page.model_version,
        "policy_sha256": page.policy_sha256,
        "scores": _records(page.scores, _SCORE_COLUMNS),
        "reasons": _records(page.reasons, _REASON_COLUMNS),
        "selection": _records(page.selection, _SELECTION_COLUMNS),
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    partial = target.with_suffix(".json.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target


def read_first_page(path: Path | None = None, *, key: str) -> FirstPage | None:
    """The cached first page when the file exists, is readable and holds ``key``; else None.

    A missing, truncated or foreign file is a miss, never an error: the caller recomputes.
    """
    source = first_page_path() if path is None else Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT or data.get("key") != key:
            return None
        scores = pd.DataFrame(data["scores"], columns=list(_SCORE_COLUMNS))
        reasons = pd.DataFrame(data["reasons"], columns=list(_REASON_COLUMNS))
        selection = pd.DataFrame(data["selection"], columns=list(_SELECTION_COLUMNS))
        page = FirstPage(
            key=str(data["key"]),
            simulated=bool(data["simulated"]),
            model_version=str(data["model_version"]),
            scores=scores.astype(
                {"case_id": "str", "score": float, "lower": float, "upper": float}
            ),
            reasons=reasons.astype({"case_id": "str", "rank": "int64", "text": "str"}),
            policy_sha256=str(data["policy_sha256"]),
            selection=selection.astype(
                {
                    "case_id": "str",
                    "selected": bool,
                    "reason": "str",
                    "score_to_enter": float,
                    "p_selected": float,
                    "chance": "str",
                }
            ).assign(displaced_by=selection["displaced_by"].fillna("").astype("str")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return page


def build_first_page(
    registry: Registry,
    *,
    model_dir: Path,
    policy_path: Path,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> FirstPage:
    """Score, explain and select the registry's incoming queue as the app's first page shows it.

    Scores every incoming case with the model in ``model_dir``, keeps the top three SHAP reasons
    of each, and explains the selection of the open candidates under the policy file.
    """
    from triage.allocate import allocate, explain_selection, load_policy, selection_chances
    from triage.explain import explain, reasons
    from triage.features import build_features
    from triage.scoring import load_model

    def step(done: int, what: str) -> None:
        if on_progress is not None:
            on_progress(done, 5, what)

    step(0, "reading the registry")
    history = registry.history()
    key, submissions = current_key(registry, model_dir=model_dir)
    queue = history.queue if history.queue is not None else submissions.iloc[:0]
    step(1, "scoring the queue")
    model = load_model(model_dir)
    features = build_features(queue, history)
    scores = model.predict(queue, history, features=features).loc[:, list(_SCORE_COLUMNS)]
    replicates = pd.DataFrame(model.member_scores(features), index=scores["case_id"].to_numpy())
    step(2, "explaining the scores")
    top = reasons(explain(model, queue, history), top=3).loc[:, list(_REASON_COLUMNS)]
    step(3, "selecting under the policy")
    policy = load_policy(policy_path)
    status = submissions.drop_duplicates("case_id", keep="last").set_index("case_id")["status"]
    scored = queue.merge(scores, on="case_id", how="left", validate="one_to_one")
    scored["status"] = scored["case_id"].map(status)
    candidates = scored[scored["status"].isin(_CANDIDATE_STATUSES)].reset_index(drop=True)
    selection = explain_selection(candidates, policy, allocate(candidates, policy))
    step(4, "chance of selection under the model's replicates")
    chances = selection_chances(
        candidates, policy, replicates.loc[candidates["case_id"]].to_numpy()
    ).by_case
    selection = selection.merge(chances, on="case_id", how="left", validate="one_to_one")
    step(5, "done")
    return FirstPage(
        key=key,
        simulated=bool(history.simulated),
        model_version=Path(model_dir).name,
        scores=scores.reset_index(drop=True),
        reasons=top.reset_index(drop=True),
        policy_sha256=policy.sha256,
        selection=selection.loc[:, list(_SELECTION_COLUMNS)],
    )


def model_sha256(model_dir: Path) -> str:
    """``TriageModel.sha256`` of a model folder, read from its files without parsing the boosters.

    Raises
    ------
    TriageError
        If an artifact file is missing or unreadable.
    """
    from triage.errors import InputFileError
    from triage.scoring import artifact_sha256

    try:
        return artifact_sha256(Path(model_dir))
    except OSError as exc:
        raise InputFileError(f"{model_dir}: model artifacts cannot be read ({exc}).") from exc


def current_key(registry: Registry, *, model_dir: Path) -> tuple[str, pd.DataFrame]:
    """The scores key of the registry and model as they are now, and the submissions it hashed.

    The submissions (``Registry.queue(statuses=STATUSES, with_status=True)``: QUEUE_COLUMNS +
    status, every origin) are returned so a cache hit needs no second read.
    """
    from triage.registry import Status

    submissions = registry.queue(statuses=get_args(Status), with_status=True)
    key = first_page_key(
        model_sha256=model_sha256(model_dir), submissions=submissions, counts=registry.counts()
    )
    return key, submissions
