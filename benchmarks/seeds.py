"""Held-out metrics of ``triage train`` on simulated histories of many seeds (not timings).

``python -m benchmarks.seeds [FIRST LAST] [--write PATH]`` (default 1 24) simulates the history
of each seed in memory (impact-sample outcomes), trains exactly as ``triage train`` does and
prints one line per seed: test-year AUC and Brier of the model, the logistic regression, the
base rate and the generator's truth; the 90 % interval's coverage of the truth and mean width on
the held-out test years and on the queue (scored by the model trained on all the seed's
outcomes); and the ECE of the score against the truth on both. Then how often the model beats
each baseline, and the trade-off curve: coverage and mean width when the same per-case sds are
read at other nominal levels. ``--write`` stores the per-seed table, means and curve as JSON
(``models/seeds.json`` is included in the model card of models trained into ``models/``).
About 5 s per seed on the 2-core machine.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: Nominal levels at which the trade-off curve reads the shipped per-case sds.
CURVE_LEVELS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def _ece_truth(score: np.ndarray, truth: np.ndarray) -> float:
    from triage.scoring import ece

    return ece(score, truth)


def _read(frame: Any, level: float) -> tuple[float, float]:
    from triage.scoring._model import interval_bounds

    lo, hi = interval_bounds(frame["score"].to_numpy(), frame["sd"].to_numpy(), level=level)
    truth = frame["truth"].to_numpy()
    return float(np.mean((truth >= lo) & (truth <= hi))), float(np.mean(hi - lo))


def run_seed(seed: int) -> dict[str, Any]:
    """Train on the simulated history of ``seed``; return its held-out and queue figures."""
    from triage.schema import History
    from triage.scoring import train
    from triage.synth import simulate

    history = History.from_frames(simulate(seed=seed))
    with tempfile.TemporaryDirectory() as out:
        result = train(history, out_dir=out)
    test = result.summary["test"]
    row: dict[str, Any] = {"seed": seed}
    for model in ("model", "logistic_regression", "base_rate", "truth"):
        row[f"{model}_auc"] = test[model]["auc"]
        row[f"{model}_brier"] = test[model]["brier"]
    held, queue = result.held_out, result.queue
    assert queue is not None
    row["coverage"] = result.coverage["covered"]
    row["width"] = result.coverage["mean_width"]
    row["queue_coverage"] = result.coverage["queue_covered"]
    row["queue_width"] = result.coverage["queue_mean_width"]
    row["ece_truth"] = _ece_truth(held["score"].to_numpy(), held["truth"].to_numpy())
    row["queue_ece_truth"] = _ece_truth(queue["score"].to_numpy(), queue["truth"].to_numpy())
    row["curve"] = {
        str(level): {"held_out": _read(held, level), "queue": _read(queue, level)}
        for level in CURVE_LEVELS
    }
    return row


_MEANS = (
    "model_auc",
    "logistic_regression_auc",
    "truth_auc",
    "coverage",
    "width",
    "queue_coverage",
    "queue_width",
    "ece_truth",
    "queue_ece_truth",
)


def main(argv: list[str]) -> int:
    write: Path | None = None
    if "--write" in argv:
        at = argv.index("--write")
        write = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    first, last = (int(argv[0]), int(argv[1])) if len(argv) == 2 else (1, 24)
    rows = []
    print(
        "seed  AUC model / LR / base / truth    Brier model / LR / base     "
        "held-out cov / width / ECE     queue cov / width / ECE"
    )
    for seed in range(first, last + 1):
        r = run_seed(seed)
        rows.append(r)
        print(
            f"{seed:>4}  {r['model_auc']:.3f} / {r['logistic_regression_auc']:.3f} / "
            f"{r['base_rate_auc']:.3f} / {r['truth_auc']:.3f}    "
            f"{r['model_brier']:.4f} / {r['logistic_regression_brier']:.4f} / "
            f"{r['base_rate_brier']:.4f}    {r['coverage']:.3f} / {r['width']:.3f} / "
            f"{r['ece_truth']:.3f}    {r['queue_coverage']:.3f} / {r['queue_width']:.3f} / "
            f"{r['queue_ece_truth']:.3f}",
            flush=True,
        )

    def share(test: list[bool]) -> str:
        return f"{sum(test)}/{len(test)}"

    lr_auc = [r["model_auc"] > r["logistic_regression_auc"] for r in rows]
    lr_brier = [r["model_brier"] < r["logistic_regression_brier"] for r in rows]
    print(
        f"model beats the LR on AUC {share(lr_auc)}, on Brier {share(lr_brier)}, on both "
        f"{share([a and b for a, b in zip(lr_auc, lr_brier, strict=True)])}; beats the base "
        f"rate on Brier {share([r['model_brier'] < r['base_rate_brier'] for r in rows])}"
    )
    means = {}
    for key in _MEANS:
        values = [r[key] for r in rows]
        means[key] = statistics.mean(values)
        print(
            f"{key}: mean {statistics.mean(values):.3f}, range {min(values):.3f}-{max(values):.3f}"
        )
    curve = []
    print("level  held-out cov / width   queue cov / width  (mean over seeds)")
    for level in CURVE_LEVELS:
        point: dict[str, float] = {"level": level}
        for part in ("held_out", "queue"):
            point[f"{part}_coverage"] = statistics.mean(
                r["curve"][str(level)][part][0] for r in rows
            )
            point[f"{part}_width"] = statistics.mean(r["curve"][str(level)][part][1] for r in rows)
        curve.append(point)
        print(
            f"{level:.2f}   {point['held_out_coverage']:.3f} / {point['held_out_width']:.3f}"
            f"        {point['queue_coverage']:.3f} / {point['queue_width']:.3f}"
        )
    if write is not None:
        table = {
            "command": f"python -m benchmarks.seeds {first} {last} --write {write.as_posix()}",
            "level": 0.9,
            "seeds": [
                {"seed": r["seed"], **{k: round(float(r[k]), 4) for k in _MEANS}} for r in rows
            ],
            "mean": {k: round(v, 4) for k, v in means.items()},
            "curve": [{k: round(v, 4) for k, v in p.items()} for p in curve],
        }
        write.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
