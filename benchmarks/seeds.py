"""Held-out metrics of ``triage train`` on simulated histories of many seeds (not timings).

``python -m benchmarks.seeds [FIRST LAST]`` (default 1 24) simulates the history of each seed
in memory (impact-sample outcomes), trains exactly as ``triage train`` does and prints one line
per seed: test-year AUC and Brier of the model, the logistic regression, the base rate and the
generator's truth, and the interval's coverage of the truth and mean width; then how often the
model beats each baseline. About 10 s per seed on the 2-core machine.
"""

from __future__ import annotations

import statistics
import sys
import tempfile


def run_seed(seed: int) -> dict[str, float]:
    """Train on the simulated history of ``seed``; return its held-out figures."""
    from triage.schema import History
    from triage.scoring import train
    from triage.synth import simulate

    history = History.from_frames(simulate(seed=seed))
    with tempfile.TemporaryDirectory() as out:
        result = train(history, out_dir=out)
    test = result.summary["test"]
    row: dict[str, float] = {"seed": seed}
    for model in ("model", "logistic_regression", "base_rate", "truth"):
        row[f"{model}_auc"] = test[model]["auc"]
        row[f"{model}_brier"] = test[model]["brier"]
    row["coverage"] = result.coverage["covered"]
    row["width"] = result.coverage["mean_width"]
    return row


def main(argv: list[str]) -> int:
    first, last = (int(argv[0]), int(argv[1])) if len(argv) == 2 else (1, 24)
    rows = []
    print("seed  AUC model / LR / base / truth    Brier model / LR / base     coverage  width")
    for seed in range(first, last + 1):
        r = run_seed(seed)
        rows.append(r)
        print(
            f"{seed:>4}  {r['model_auc']:.3f} / {r['logistic_regression_auc']:.3f} / "
            f"{r['base_rate_auc']:.3f} / {r['truth_auc']:.3f}    "
            f"{r['model_brier']:.4f} / {r['logistic_regression_brier']:.4f} / "
            f"{r['base_rate_brier']:.4f}    {r['coverage']:.3f}     {r['width']:.3f}",
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
    for key in ("model_auc", "logistic_regression_auc", "truth_auc", "coverage", "width"):
        values = [r[key] for r in rows]
        print(
            f"{key}: mean {statistics.mean(values):.3f}, range {min(values):.3f}-{max(values):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
