"""The auditor's bundle of one run: readable without the app, names left out, small counts hidden.

``export_run`` writes into a folder:

- ``record.json``: the chained record (content, hashes, user, role, time);
- ``record.csv``: one row per candidate (case id, scores, groups, decision, reason, overrides);
- ``overrides.csv``: every override of the run;
- ``policy.toml``: the policy text exactly as used;
- ``model_card.md``: the model's card (copied, or a stub naming version and hash if absent);
- ``summary.html``: the run at a glance; group counts below 5 are shown as "<5";
- ``SHA256SUMS``: the SHA-256 of every other file.

CSV cells are guarded against formula injection and no file carries a defender's or source's
name. The same registry gives byte-identical bundles.
"""

from __future__ import annotations

import hashlib
import html
import io
from pathlib import Path

import pandas as pd

from triage.audit._chain import VerifyResult
from triage.audit._ledger import HasEngine, get_record, read_records, verify_chain
from triage.audit._privacy import safe_frame
from triage.audit._run import record_json, run_candidates
from triage.config import models_dir
from triage.errors import TriageError
from triage.schema import QUEUE_COLUMNS, SENSITIVE_COLUMNS, label, split_codes

__all__ = ["SUPPRESS_BELOW", "export_run", "suppress_counts"]

#: Counts below this are suppressed in the summary.
SUPPRESS_BELOW = 5


def suppress_counts(counts: pd.Series, *, partition: bool) -> pd.Series:
    """Return counts as text with every count below 5 shown as ``<5``.

    When the groups partition a total that is shown elsewhere (``partition=True``) and exactly
    one count is hidden, the next smallest is hidden too, so no hidden count can be worked out
    by subtraction.
    """
    values = counts.astype(int)
    hidden = values < SUPPRESS_BELOW
    if partition and int(hidden.sum()) == 1 and len(values) > 1:
        visible = values[~hidden]
        hidden.loc[visible.idxmin()] = True  # type: ignore[call-overload]
    return pd.Series(
        [
            ("<5" if h and v < SUPPRESS_BELOW else "suppressed" if h else str(v))
            for v, h in zip(values, hidden, strict=True)
        ],
        index=counts.index,
        dtype=object,
    )


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    safe_frame(frame).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _group_table(cands: pd.DataFrame, dim: str, title: str) -> str:
    if dim == "violations":
        exploded = cands.assign(
            group=cands["violations"].map(lambda v: list(split_codes(v)) or ["none"])
        ).explode("group")
    else:
        exploded = cands.assign(group=cands[dim].fillna("unknown").astype(str))
    table = exploded.groupby("group").agg(
        candidates=("case_id", "size"), selected=("selected", "sum")
    )
    partition = dim != "violations"
    cand_text = suppress_counts(table["candidates"], partition=partition)
    sel_text = suppress_counts(table["selected"], partition=partition)
    rows = "".join(
        f"<tr><td>{html.escape(label(str(g)))}</td><td>{cand_text[g]}</td><td>{sel_text[g]}</td></tr>"
        for g in table.index
    )
    return (
        f"<h2>{html.escape(title)}</h2><table><tr><th>group</th><th>candidates</th>"
        f"<th>selected</th></tr>{rows}</table>"
    )


def _summary_html(
    record_text: dict[str, object], cands: pd.DataFrame, n_overrides: int, check: VerifyResult
) -> str:
    content = record_text["content"]
    assert isinstance(content, dict)
    solver = content["solver"]
    simulated = " (SIMULATED data)" if content.get("simulated") else ""
    facts = [
        ("Run", record_text["record_id"]),
        ("Time (UTC)", record_text["created_at"]),
        ("By", f"{record_text['user']} ({record_text['role']})"),
        ("Policy SHA-256", content["policy"]["sha256"]),
        ("Model", f"{content['model']['version']} (artifact SHA-256 {content['model']['sha256']})"),
        ("Candidate table SHA-256", content["candidates"]["sha256"]),
        (
            "Solver",
            f"{solver['name']} {solver['version'] or ''}; status {solver['status']}; gap {solver['gap']}",
        ),
        ("Seed", content["seed"]),
        ("Candidates / selected", f"{content['candidates']['n']} / {len(content['selected'])}"),
        ("Overrides", n_overrides),
        ("Record hash", record_text["hash"]),
        ("Previous record hash", record_text["prev_hash"]),
        ("Chain check at export", check.summary()),
    ]
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Selection run {html.escape(str(record_text['record_id']))}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;"
        "padding:.25em .6em;text-align:left}</style></head><body>"
        f"<h1>Selection run {html.escape(str(record_text['record_id']))}{simulated}</h1>"
        f"<table>{rows}</table>"
        f"<p>Counts below {SUPPRESS_BELOW} are shown as &lt;5 (and one more count is hidden where "
        "the hidden one could be worked out from the total). No names of defenders or sources "
        "appear in this bundle.</p>"
        + _group_table(cands, "un_region", "By UN regional group")
        + _group_table(cands, "gender", "By gender")
        + _group_table(
            cands, "violations", "By violation (a case counts under each of its violations)"
        )
        + "<p>Files: record.json, record.csv, overrides.csv, policy.toml, model_card.md, "
        "SHA256SUMS.</p></body></html>\n"
    )


def _model_card(content: dict[str, object], model_dir: Path | None) -> bytes:
    model = content["model"]
    assert isinstance(model, dict)
    candidates = []
    if model_dir is not None:
        candidates.append(Path(model_dir))
    if model.get("dir"):
        candidates.append(Path(str(model["dir"])))
    candidates.append(models_dir() / "default")
    import re

    recorded = str(model.get("sha256", ""))
    for folder in candidates:
        for name in ("model_card.md", "MODEL_CARD.md", "card.md"):
            path = folder / name
            if path.is_file():
                data = path.read_bytes()
                stated = re.search(rb"Model artifacts sha256:\s*`([0-9a-f]{64})`", data)
                if stated is None or stated.group(1).decode() == recorded:
                    return data
                return (
                    "# Model card withheld\n\n"
                    f"- version: {model.get('version')}\n"
                    f"- artifact SHA-256 recorded with the run: {recorded}\n"
                    f"- artifact SHA-256 stated by the card found at {path.name}: "
                    f"{stated.group(1).decode()}\n\n"
                    "The card found describes different model artifacts than the run used, so "
                    "it is not part of this bundle.\n"
                ).encode()
    return (
        "# Model card\n\n"
        f"- version: {model.get('version')}\n"
        f"- artifact SHA-256: {model.get('sha256')}\n\n"
        "The model's own card was not found when this bundle was written.\n"
    ).encode()


def _check_no_names(registry: HasEngine, files: dict[str, bytes]) -> None:
    """Test the summary's claim ("No names of defenders or sources appear in this bundle")
    against the bundle's own files; refuse to write it when any file holds one."""
    from triage.audit._names import name_index

    index = name_index(registry)
    for name, data in sorted(files.items()):
        if index.appears_in(data.decode("utf-8", errors="replace")):
            raise TriageError(
                f"the bundle's {name} would hold a defender's name or a source's contact; "
                "nothing was written. Check the run's records with `triage audit overrides`."
            )


def export_run(
    registry: HasEngine,
    run_id: str,
    out_dir: str | Path,
    *,
    model_dir: str | Path | None = None,
) -> Path:
    """Write the auditor's bundle of run ``run_id`` into ``out_dir`` and return the folder.

    Parameters
    ----------
    registry : Registry
        Where the run is stored.
    run_id : str
        The run (``triage audit runs`` lists them).
    out_dir : str or Path
        Created if missing; existing bundle files are overwritten.
    model_dir : str or Path, optional
        Where to look for ``model_card.md`` first.
    """
    record = get_record(registry, run_id, kind="run")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cands = run_candidates(registry, run_id)
    cands = cands.drop(columns=[c for c in cands.columns if c in SENSITIVE_COLUMNS])
    reasons = pd.DataFrame(record.content["reasons"], columns=["case_id", "selected", "reason"])
    cands = cands.merge(reasons, on="case_id", how="left")
    cands["selected"] = cands["selected"].fillna(False).astype(bool)
    overrides = [
        o for o in read_records(registry, kind="override") if o.content["run_id"] == run_id
    ]
    from triage.audit._names import withhold

    over = pd.DataFrame(
        [
            {
                "override_id": o.record_id,
                "created_at": o.created_at,
                "user": o.user,
                "role": o.role,
                **{k: o.content[k] for k in ("case_id", "action", "reason")},
            }
            for o in overrides
        ],
        columns=["override_id", "created_at", "user", "role", "case_id", "action", "reason"],
    )
    over = withhold(registry, over, ("user", "reason"))
    last = dict(zip(over["case_id"], over["action"], strict=True))  # later overrides win
    cands["override"] = [last.get(c, "") for c in cands["case_id"]]
    # The queue's own columns from country to n_mandates (groups and the planned letter).
    described = QUEUE_COLUMNS[
        QUEUE_COLUMNS.index("country") : QUEUE_COLUMNS.index("n_mandates") + 1
    ]
    columns = [
        *("case_id", "selected", "override", "reason", "score", "lower", "upper"),
        *described,
        "received_date",
    ]
    cands_out = cands.loc[:, [c for c in columns if c in cands.columns]].copy()
    if "received_date" in cands_out:
        cands_out["received_date"] = cands_out["received_date"].dt.strftime("%Y-%m-%d")
    text = record_json(record)
    import json

    files: dict[str, bytes] = {
        "record.json": text.encode("utf-8"),
        "record.csv": _csv(cands_out),
        "overrides.csv": _csv(over),
        "policy.toml": str(record.content["policy"]["text"]).encode("utf-8"),
        "model_card.md": _model_card(record.content, Path(model_dir) if model_dir else None),
        "summary.html": _summary_html(
            json.loads(text), cands, len(over), verify_chain(registry)
        ).encode("utf-8"),
    }
    _check_no_names(registry, files)
    for name, data in files.items():
        (out / name).write_bytes(data)
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    (out / "SHA256SUMS").write_text(sums, encoding="utf-8")
    return out
