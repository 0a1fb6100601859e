"""The model card (``MODEL_CARD.md``) and a hand-written SVG reliability diagram."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["metrics_markdown", "reliability_svg", "seeds_markdown", "write_model_card"]


def reliability_svg(table: pd.DataFrame, *, size: int = 360) -> str:
    """Draw predicted vs observed improvement rate per bin (dots sized by n) as standalone SVG."""
    pad = 48
    inner = size - 2 * pad

    def x(v: float) -> float:
        return pad + v * inner

    def y(v: float) -> float:
        return size - pad - v * inner

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{size / 2}" y="18" text-anchor="middle" font-size="13">'
        "Reliability on the test years (simulated data)</text>",
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#999" stroke-dasharray="4 3"/>',
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#333"/>',
    ]
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{x(t)}" y="{size - pad + 14}" text-anchor="middle">{t:.2f}</text>')
        parts.append(f'<text x="{pad - 6}" y="{y(t) + 4}" text-anchor="end">{t:.2f}</text>')
    parts.append(
        f'<text x="{size / 2}" y="{size - 12}" text-anchor="middle">mean predicted probability</text>'
    )
    parts.append(
        f'<text x="14" y="{size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {size / 2})">observed improvement rate</text>'
    )
    filled = table[table["n"] > 0]
    n_max = max(int(filled["n"].max()), 1) if len(filled) else 1
    points = []
    for row in filled.to_dict("records"):
        px, py = x(float(row["mean_predicted"])), y(float(row["observed_rate"]))
        points.append(f"{px:.1f},{py:.1f}")
        r = 3 + 7 * (int(row["n"]) / n_max) ** 0.5
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{r:.1f}" fill="#0072B2" fill-opacity="0.7">'
            f"<title>bin {row['lower']:.1f}–{row['upper']:.1f}: n={row['n']}</title></circle>"
        )
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#0072B2"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def metrics_markdown(metrics: pd.DataFrame) -> str:
    """Render the test-year metrics table as Markdown."""
    lines = ["| model | n | AUC | Brier | log loss | ECE |", "|---|---|---|---|---|---|"]
    for row in metrics.itertuples():
        lines.append(
            f"| {row.model} | {row.n} | {row.auc:.3f} | {row.brier:.4f} | {row.log_loss:.4f} | {row.ece:.4f} |"
        )
    return "\n".join(lines)


def _verdict(metrics: pd.DataFrame) -> str:
    """Say plainly whether the model beats each baseline on AUC and Brier score."""
    rows = {str(r["model"]): r for r in metrics.to_dict("records")}
    parts = []
    for other in ("logistic_regression", "base_rate"):
        if other not in rows or "model" not in rows:
            continue
        auc = float(rows["model"]["auc"]) > float(rows[other]["auc"])
        brier = float(rows["model"]["brier"]) < float(rows[other]["brier"])
        if auc and brier:
            word = "beats"
        elif auc or brier:
            word = "is mixed against (" + ("AUC better" if auc else "Brier better") + ")"
        else:
            word = "does NOT beat"
        parts.append(f"{word} the {other.replace('_', ' ')}")
    return "On these test years the model " + "; ".join(parts) + "." if parts else ""


def _comparison_markdown(comparison: dict[str, Any] | None) -> str:
    if not comparison:
        return ""
    lines = [
        "",
        "## Learning from more data (simulated systematic outcome recording)",
        f"The same procedure on `{comparison['folder']}`: {comparison['n_labelled']} labelled cases "
        f"(`triage generate --outcomes all`), test years {comparison['test_years']}, "
        f"training-data sha256 `{comparison['training_data_sha256']}`.",
        "",
        "| model | n | AUC | Brier | log loss | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in (comparison.get("test") or {}).items():
        lines.append(
            f"| {name} | {m['n']} | {m['auc']:.3f} | {m['brier']:.4f} | {m['log_loss']:.4f} | {m['ece']:.4f} |"
        )
    cov = comparison.get("coverage") or {}
    if "covered" in cov:
        lines.append("")
        lines.append(
            f"Interval coverage of the truth: {cov['covered']:.1%} (nominal {cov['nominal']:.0%})."
        )
    return "\n".join(lines) + "\n"


def seeds_markdown(table: dict[str, Any] | None) -> str:
    """The interval over unseen seeds (``python -m benchmarks.seeds ... --write``) as Markdown."""
    if not table:
        return ""
    lines = [
        "",
        "**The interval on unseen seeds.** The same training on the simulated histories of "
        f"{len(table['seeds'])} other seeds (`{table['command']}`): coverage of the truth and "
        f"mean width of the {table['level']:.0%} interval on the queue (scored by the model "
        "trained on all the seed's outcomes) and on the held-out test years (model trained on "
        "the earlier years); ECE of the score against the truth (10 bins).",
        "",
        "| seed | queue coverage | queue width | held-out coverage | held-out width "
        "| ECE queue | ECE held-out |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [*table["seeds"], {"seed": "mean", **table["mean"]}]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['queue_coverage']:.3f} | {r['queue_width']:.3f} "
            f"| {r['coverage']:.3f} | {r['width']:.3f} | {r['queue_ece_truth']:.3f} "
            f"| {r['ece_truth']:.3f} |"
        )
    lines += [
        "",
        "Trade-off: the same per-case sds read at other nominal levels (means over those seeds).",
        "",
        "| nominal level | queue coverage | queue width | held-out coverage | held-out width |",
        "|---|---|---|---|---|",
    ]
    for p in table["curve"]:
        lines.append(
            f"| {p['level']:.0%} | {p['queue_coverage']:.3f} | {p['queue_width']:.3f} "
            f"| {p['held_out_coverage']:.3f} | {p['held_out_width']:.3f} |"
        )
    narrow = [p for p in table["curve"] if p["queue_width"] <= 0.40]
    covers = [p for p in table["curve"] if p["queue_coverage"] >= 0.80]
    reach = [p for p in narrow if p["queue_coverage"] >= 0.80]
    parts = [
        "",
        f"The model ships the {table['level']:.0%} level (the level the app shows): coverage of "
        "the truth comes first, since a band too narrow misleads more than one too wide.",
    ]
    if reach:
        parts.append(
            f"On these seeds the {reach[-1]['level']:.0%} reading reaches both a queue coverage "
            "of at least 80% and a mean queue width of at most 0.40."
        )
    else:
        if narrow:
            parts.append(
                f"On these seeds no level reaches both a queue coverage of at least 80% and a "
                f"mean queue width of at most 0.40: the widest reading within 0.40 "
                f"({narrow[-1]['level']:.0%}) covers {narrow[-1]['queue_coverage']:.1%}"
            )
        if covers:
            parts.append(
                f"{';' if narrow else ''} the first reading covering 80% "
                f"({covers[0]['level']:.0%}) is {covers[0]['queue_width']:.3f} wide."
            )
    parts.append(
        "The score itself does not depend on the interval: its ECE is the same at every level."
    )
    lines += ["", " ".join(parts[1:]).replace(" ;", ";")]
    return "\n".join(lines) + "\n"


def _ranking_sentence(ranking: dict[str, Any] | None) -> str:
    if not ranking:
        return "no queue was available to measure it on."
    return (
        f"on the queue of {ranking['queue_n']:,} cases it gives {ranking['distinct_scores']:,} "
        f"distinct scores, and the largest group sharing one score holds "
        f"{ranking['largest_tie']} case(s) ({ranking['largest_tie_share']:.2%}). Exact ties that "
        "remain are settled by the allocation's seeded lottery, recorded with each run."
    )


def write_model_card(
    out: Path,
    summary: dict[str, Any],
    metrics: pd.DataFrame,
    *,
    seeds: dict[str, Any] | None = None,
) -> None:
    """Write ``MODEL_CARD.md`` from the training summary.

    ``seeds``: the interval table over unseen seeds (``models/seeds.json``, written by
    ``python -m benchmarks.seeds FIRST LAST --write models/seeds.json``), included as is.
    """
    split = summary["split"]
    cov = summary["coverage"]
    covered = cov.get("covered")
    cov_line = (
        f"{covered:.1%} of test-year cases have the truth inside their interval "
        f"(nominal {cov['nominal']:.0%}; mean width {cov['mean_width']:.3f})."
        if covered is not None
        else f"Not measurable without a truth table (nominal {cov['nominal']:.0%})."
    )
    queue = cov.get("queue")
    if queue:
        cov_line += (
            f" On the queue ({int(queue['n'])} cases, model trained on all outcomes): "
            f"{queue['covered']:.1%} covered, mean width {queue['mean_width']:.3f}."
        )
    gap = summary.get("auc_gap_to_truth")
    gap_line = f"AUC gap to the truth: {gap:.3f}." if gap is not None else ""
    comparison = _comparison_markdown(summary.get("comparison"))
    verdict = _verdict(metrics)
    data_kind = "SIMULATED (seeded structural simulation)" if summary["simulated"] else "real"
    text = f"""# Model card: triage improvement score

## Intended use
Decision support for staff of the UN Special Rapporteur on human rights defenders: for each
incoming case, the calibrated probability that the defender's situation improves ("much better"
or "somewhat better") within one year if the mandate takes the case up, with a {cov["nominal"]:.0%}
interval and SHAP reasons in probability points. It ranks and informs; it does not decide.
Humans select cases, under the balance targets of the allocation module.

## Data
- Data: **{data_kind}**. The numbers below describe the simulation, not the real world.
- Labelled cases: {summary["n_labelled"]} (improvement rate {summary["base_rate_all"]:.1%}).
- **Outcomes are only observed for cases taken up.** Nothing is known about submissions the
  mandate did not act on, so the score estimates improvement *given* a communication, among cases
  like those taken up in the past. It is not a causal effect of the communication.
- Time split: training years {split["train"]["years"]} (n={split["train"]["n"]}),
  validation {split["validation"]["years"]} (n={split["validation"]["n"]}),
  test {split["test"]["years"]} (n={split["test"]["n"]}).
- Training-data sha256: `{summary["training_data_sha256"]}`
- Model artifacts sha256: `{summary.get("model_sha256", "")}`

## Model
LightGBM binary classifier; configuration and number of rounds chosen by validation log loss
averaged over two time-ordered origins: `{summary["config"]}`. When `linear_start_C` is set the
trees are boosted from the log-odds of an L2 logistic regression (LightGBM `init_score`) on the
features the paper ties to outcomes (violations, co-signing mandates, days since the last
incident, raised before, the country's record; `triage.features.START_FEATURES`), so on small
data the model is essentially that regression plus the corrections validation supports; the
trees see every feature. Monotone constraints backed by
the paper: a longer wait since the last incident or more co-signing mandates never raise the
score; detention and conviction never lower it; administrative harassment and killing never
raise it; a better earlier improvement rate of the country never lowers it. Calibration:
**{summary["calibration"]["kind"]}**, chosen by cross-validated Brier score on validation
({summary["calibration"]["cv_brier"]}; identity means the raw probability is kept). The shipped
model is refitted on all labelled cases; a sigmoid or isotonic calibrator is fitted on its
cross-fitted predictions (5 time-ordered folds). Every calibrator is strictly increasing
(Platt with a positive slope; isotonic read as one knot per pooled block at the block's centre,
interpolated in the log-odds, with slope-one tails), so the calibrated score keeps the booster's
order and ranks: {_ranking_sentence(summary.get("ranking"))} The baseline logistic
regression's C ({summary.get("logistic_regression_C")}) is chosen on the same validation years.

Features: the case (violations, issue areas, gender, protester, UN regional group, country,
communication type, planned co-signing mandates, days since the last incident, raised before)
and the country's point-in-time record (substantive-reply rate, rejection rate, mean response
time, improvement rate among earlier outcomes shrunk toward the global rate). Only information
dated before each case is used. The generator's truth is never a feature.

## Metrics on the held-out test years
{metrics_markdown(metrics)}

{verdict} {gap_line} ECE uses 10 equal-width bins; the reliability table is in `metrics.json`, the diagram
in `reliability.svg`.

**What the interval promises.** For a case, the range in which its chance of improvement
lies (the probability a model that knew the year's climate, the country's own effect and the
exact weights of the features would give), at the nominal level, as far as the data can
estimate what the score misses: the score's estimation error (bootstrap), the year's climate
(a new year's is unknown; it moves all cases of the year together) and the country's own
effect, which shrinks as more of the country's outcomes were known when the case came in
(a country with many known outcomes gets a narrower band). The two shared effects enter at the
upper 80% confidence bound of their estimated variance, so a history that reveals little gets a
wider band. The chance is read as log-odds normal with mean equal to the score, so below 50 %
the band leans toward zero. It does not include how the score misweights a kind of case (e.g. a
rare violation) beyond what the bootstrap shows: with one outcome per case that cannot be told
apart from luck, so the interval under-covers its nominal level; read the 90% band as covering
about four cases in five, less on some histories (measured below).

**Interval coverage.** {cov_line} Definition: {cov["definition"]}.
{seeds_markdown(seeds)}{comparison}
## Limits
- Trained on simulated data calibrated to the figures of *Chasing Shadows* (Spannagel 2018).
- The labelled impact sample is small; country-level effects are shrunk toward the global rate
  and individual scores carry wide intervals. The interval adds estimation variance (bootstrap)
  and the year and country effects the score misses, as far as pairs of outcomes sharing a year
  or a country reveal them. What is particular to one case cannot be estimated from one outcome
  per case, and misfit of the score for a kind of case is not in the interval either: the
  interval under-covers its nominal level, and the coverage above says by how much.
- Selection bias: outcomes exist only for cases taken up; cases unlike past ones are
  extrapolations.
- Names of defenders and submitters are never features and never appear in explanations.
"""
    (out / "MODEL_CARD.md").write_text(text, encoding="utf-8")
