"""Check a history against every figure of the policy paper (``data/calibration_targets.csv``).

Each target names a measurement (``key``), the paper's value, a rule and a tolerance:

- ``near``: passes when ``|generated - paper| <= tolerance``;
- ``at_least`` / ``at_most``: passes when ``generated >= paper - tolerance`` (resp. ``<=``
  ``paper + tolerance``), for the paper's "more than", "less than", "increased" statements.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from triage.config import data_dir
from triage.schema import ISSUE_AREAS, VIOLATIONS, History, codes_to_frame

__all__ = ["CalibrationReport", "calibration_report", "measure", "targets"]

TARGETS_FILE: Final = "calibration_targets.csv"
_RULES: Final = ("near", "at_least", "at_most")
_SUBSTANTIVE: Final = ("rejection", "no_rejection", "content_unknown")
_ADMIN: Final = (
    "travel_restriction",
    "administrative_harassment",
    "professional_restriction",
    "expulsion",
    "citizenship_revoked",
)
_SEKAGGYA: Final = ("2008-05-01", "2014-05-31", 73)
_FORST: Final = ("2014-06-01", "2016-11-30", 30)
_POSITIVE: Final = ("SAU", "KEN", "UGA", "NER", "PAK", "MNG", "AZE")
_NEGATIVE: Final = ("MEX", "HND", "ECU", "PER", "GRC", "IND", "ARG")
#: The years the paper names as good, one-third improved (p. 20, Figure 7).
_GOOD_YEARS: Final = (2005, 2009, 2010, 2012, 2015)
#: The countries p. 21 names as staying the same or getting worse more often than improving
#: (Greece, India and Argentina are named in the next paragraph's comparison of regime types).
_NEGATIVE_NAMED: Final = ("MEX", "HND", "ECU", "PER")
_DAYS_PER_MONTH: Final = 365.25 / 12


@dataclass(frozen=True)
class CalibrationReport:
    """The calibration table and whether every figure passed.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per figure: ``group``, ``figure``, ``paper``, ``generated``, ``tolerance``,
        ``rule`` (how ``paper`` and ``tolerance`` are applied, in words), ``passed``,
        ``source`` (page and sentence of the paper), ``key`` and ``expected`` (the figure's
        mean over seeds 1-30, the simulation's expected value; NaN when not recorded).
    """

    table: pd.DataFrame

    @property
    def passed(self) -> bool:
        """True when every figure is within its tolerance."""
        return bool(self.table["passed"].all())

    @property
    def failures(self) -> pd.DataFrame:
        """The rows that failed."""
        return self.table.loc[~self.table["passed"]]


@lru_cache(maxsize=4)
def _read_targets(path: Path) -> tuple[dict[str, str], ...]:
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(dict(row) for row in csv.DictReader(fh))


def targets(path: str | Path | None = None) -> pd.DataFrame:
    """Read the calibration targets: key, group, figure, paper, rule, tolerance, source, why, expected.

    Parameters
    ----------
    path : str or Path, optional
        Defaults to ``data/calibration_targets.csv``.
    """
    rows = _read_targets(Path(path) if path is not None else data_dir() / TARGETS_FILE)
    frame = pd.DataFrame(list(rows))
    frame["paper"] = frame["paper"].astype(float)
    frame["tolerance"] = frame["tolerance"].astype(float)
    if "expected" not in frame:
        frame["expected"] = np.nan
    frame["expected"] = pd.to_numeric(frame["expected"], errors="coerce")
    bad = sorted(set(frame["rule"]) - set(_RULES))
    if bad:
        raise ValueError(f"`rule` must be one of {_RULES}. Got {bad} instead.")
    return frame


def _share(mask: pd.Series | np.ndarray, within: pd.Series | np.ndarray | None = None) -> float:
    m = np.asarray(mask, dtype=bool)
    w = np.ones_like(m) if within is None else np.asarray(within, dtype=bool)
    n = int(w.sum())
    return float((m & w).sum() / n) if n else float("nan")


def _year(dates: pd.Series) -> pd.Series:
    return dates.dt.year


def measure(
    history: History, supplements: Mapping[str, pd.DataFrame] | None = None
) -> dict[str, float]:
    """Measure every calibrated quantity of a history (keys as in the targets file).

    ``supplements`` are the supplementary tables (``read_supplements``); the figures they carry
    measure as NaN (and so fail) when a table is missing.
    """
    cm = history.communications.copy()
    cs = history.cases.copy()
    out: dict[str, float] = {}

    # ---------------------------------------------------------------- counts
    letter = cm["type"] != "PR"
    named = cm["n_individuals"].fillna(0) > 0
    state = cm["addressee"] == "state"
    out["n_communications"] = len(cm)
    out["n_press_releases"] = int((cm["type"] == "PR").sum())
    out["n_cases"] = len(cs)
    mentions = cs["individual_id"].value_counts()
    out["n_individuals"] = len(mentions)
    out["share_individuals_once"] = float((mentions == 1).mean()) if len(mentions) else np.nan
    out["n_comms_individual_cases"] = int((letter & named & state).sum())
    out["n_comms_unnamed"] = int((letter & ~named).sum())
    out["n_comms_non_state"] = int((cm["addressee"] == "non_state").sum())
    out["n_protesters"] = int(cs["protester"].fillna(False).sum())
    v = codes_to_frame(cs["violations"], VIOLATIONS)
    a = codes_to_frame(cs["issue_areas"], ISSUE_AREAS)
    out["n_killed"] = int(v["killing"].sum())

    # ---------------------------------------------------------------- caseload over the years
    cm_year = _year(cm["sent_date"])
    per_year = cm_year.value_counts().sort_index()
    out["comms_2008"] = int(per_year.get(2008, 0))
    out["comms_2010"] = int(per_year.get(2010, 0))
    out["comms_2011"] = int(per_year.get(2011, 0))
    out["comms_peak_year"] = float(per_year.index[int(np.argmax(per_year.to_numpy()))])
    out["comms_rise_2011_2015"] = float(per_year.get(2015, 0) - per_year.get(2011, 0))
    rise = per_year.reindex(range(2001, 2009), fill_value=0).diff().dropna()
    out["comms_decreases_2001_2008"] = int((rise < 0).sum())
    ind_letters = (letter & named).groupby(cm_year).sum().reindex(range(2011, 2016), fill_value=0)
    out["named_letters_slope_2011_2015"] = float(
        np.polyfit(np.arange(len(ind_letters)), ind_letters.to_numpy(dtype=float), 1)[0]
    )
    sent = cs["sent_date"]
    for era, (start, end, months) in (("sekaggya", _SEKAGGYA), ("forst", _FORST)):
        n = ((sent >= start) & (sent <= end)).sum()
        out[f"cases_per_year_{era}"] = float(n) / months * 12
    alone = cm["n_mandates"] == 1
    for y in (2012, 2013):
        out[f"alone_{y}"] = int((alone & (cm_year == y)).sum())
    out["alone_share_2014_2016"] = _share(alone, cm_year >= 2014)
    out["alone_share_2000_2011"] = _share(alone, cm_year <= 2011)
    ua = cm["type"] == "UA"
    out["ua_share_change"] = _share(ua, letter & named & (cm_year >= 2014)) - _share(
        ua, letter & named & cm_year.between(2008, 2010)
    )

    # ---------------------------------------------------------------- violations and profiles
    for code in ("detention", "torture_physical_attack", "threats", "relatives_targeted", "trial"):
        out[f"share_{code}"] = _share(v[code])
    out["conviction_of_trial"] = _share(v["conviction"], v["trial"])
    out["share_administrative"] = _share(v[list(_ADMIN)].any(axis=1))
    woman = cs["gender"] == "woman"
    out["women_all"] = _share(woman)
    for code in ("detention", "trial", "killing", "threats", "defamation", "relatives_targeted"):
        out[f"women_{code}"] = _share(woman, v[code])
    protester = cs["protester"].fillna(False).astype(bool)
    out["protesters_detained"] = _share(protester, v["detention"])
    out["protesters_not_detained"] = _share(protester, ~v["detention"])

    # ---------------------------------------------------------------- issue areas
    le = a["land_environmental_rights"]
    lei = le | a["indigenous_rights"]
    out["share_land_env"] = _share(le)
    out["share_land_env_indigenous"] = _share(lei)
    out["land_env_killing"] = _share(le, v["killing"])
    out["land_env_non_lethal"] = _share(le, ~v["killing"])
    out["share_no_issue_area"] = _share(~a.any(axis=1))
    cs_year = _year(sent)
    lei_year = lei.groupby(cs_year).mean()
    for y in (2003, 2007, 2016):
        out[f"lei_{y}"] = float(lei_year.get(y, np.nan))
    out["lei_2016_above_peaks"] = float(
        lei_year.get(2016, np.nan) - max(lei_year.get(2003, np.nan), lei_year.get(2007, np.nan))
    )
    out["lei_rise_from_2011"] = float(lei_year.get(2016, np.nan) - lei_year.get(2011, np.nan))
    lgbti = a["lgbti_rights"]
    out["lgbti_cases"] = int(lgbti.sum())
    out["lgbti_comms"] = int(cs.loc[lgbti, "communication_id"].nunique())
    out["lgbti_share_2013_2016"] = _share(lgbti, cs_year >= 2013)

    # ---------------------------------------------------------------- replies
    joined = cs.merge(
        cm[["communication_id", "reply_class", "reply_date", "type", "n_mandates"]],
        on="communication_id",
        how="left",
        validate="many_to_one",
    )
    rc = joined["reply_class"].fillna("none")
    replied = rc != "none"
    subst = rc.isin(_SUBSTANTIVE)
    known = rc.isin(("rejection", "no_rejection"))
    rejected = rc == "rejection"
    out["reply_any"] = _share(replied)
    out["reply_substantive"] = _share(subst)
    out["no_information"] = _share(~subst)
    # Positional arrays from here on: ``joined`` has a fresh index after the merge.
    subst_a, known_a, rejected_a = subst.to_numpy(), known.to_numpy(), rejected.to_numpy()
    js = joined["sent_date"]
    mandate = np.select(
        [(js < _SEKAGGYA[0]).to_numpy(), (js < _FORST[0]).to_numpy()],
        ["jilani", "sekaggya"],
        default="forst",
    )
    for name in ("jilani", "sekaggya", "forst"):
        out[f"substantive_{name}"] = _share(subst_a, mandate == name)
    out["rejection_majority"] = _share(rejected_a, known_a)
    out["rejection_rise"] = _share(rejected_a, known_a & (mandate == "forst")) - _share(
        rejected_a, known_a & (mandate == "jilani")
    )
    for iso in ("IND", "ARG"):
        here = joined["country"] == iso
        out[f"cases_{iso}"] = int(here.sum())
        out[f"response_{iso}"] = _share(subst, here)
        out[f"rejection_{iso}"] = _share(rejected, known & here)
    lac = joined["un_region"] == "latin_american_caribbean"
    out["lac_response_advantage"] = _share(subst, lac) - _share(subst, ~lac)

    days = (joined["reply_date"] - joined["sent_date"]).dt.days
    out["reply_days_mean"] = float(days[subst].mean())
    for iso in ("SAU", "IND", "USA", "OMN", "MRT", "AGO"):
        out[f"reply_days_{iso}"] = float(days[subst & (joined["country"] == iso)].mean())
    out["immaterial_slower"] = float(days[rc == "immaterial"].mean() - days[subst].mean())

    # ---------------------------------------------------------------- urgent appeal delays
    uas = cm.loc[ua & named].copy()
    delay = (uas["sent_date"] - uas["last_incident_date"]).dt.days.astype(float)
    nm = uas["n_mandates"].astype(float)
    ok = delay.notna() & nm.notna()
    out["ua_days_per_mandate"] = (
        float(np.polyfit(nm[ok], delay[ok], 1)[0])
        if ok.sum() > 2 and nm[ok].nunique() > 1
        else np.nan
    )
    out["ua_days_2013_2016"] = float(delay[_year(uas["sent_date"]) >= 2013].mean())

    # ---------------------------------------------------------------- impact sample
    oc = history.outcomes
    sample = oc[oc["assessment"].isin(("survey", "online"))].merge(
        joined.assign(**{f"v_{c}": v[c].to_numpy() for c in VIOLATIONS}),
        on="case_id",
        how="left",
    )
    sample = sample.merge(
        cm[["communication_id", "n_individuals"]], on="communication_id", how="left"
    )
    out["sample_size"] = len(sample)
    out["sample_survey"] = int((sample["assessment"] == "survey").sum())
    out["sample_online"] = int((sample["assessment"] == "online").sum())
    out["sample_in_period"] = _share(sample["sent_date"].between("2004-01-01", "2015-11-30"))
    out["sample_at_most_10"] = _share(sample["n_individuals"] <= 10)
    o = sample["outcome"]
    better = o.isin(("much_better", "somewhat_better"))
    worse = o.isin(("somewhat_worse", "much_worse"))
    out["improved"] = _share(better)
    out["same_or_mixed"] = _share(o.isin(("same", "mixed")))
    out["worse"] = _share(worse)
    out["much_worse"] = int((o == "much_worse").sum())
    categories = o.map(
        {"much_better": "better", "somewhat_better": "better", "same": "same", "mixed": "mixed"}
    ).fillna("worse")
    shares = categories.value_counts(normalize=True)
    out["same_is_modal"] = float(
        shares.get("same", 0.0) - shares.drop("same", errors="ignore").max()
    )
    det = sample["v_detention"].fillna(False).astype(bool)
    out["improved_detention"] = _share(better, det)
    out["improved_no_detention"] = _share(better, ~det)
    out["mixed_detention"] = _share(o == "mixed", det)
    out["mixed_detention_gap"] = _share(o == "mixed", det) - _share(o == "mixed", ~det)
    conv = sample["v_conviction"].fillna(False).astype(bool)
    out["improved_convicted"] = _share(better, conv)
    out["improved_not_convicted"] = _share(better, ~conv)
    alone_s = sample["n_mandates"] == 1
    out["sample_alone"] = int(alone_s.sum())
    out["improved_alone"] = _share(better, alone_s)
    out["improved_joint"] = _share(better, ~alone_s)
    out["worse_admin_harassment"] = _share(
        worse, sample["v_administrative_harassment"].fillna(False).astype(bool)
    )
    out["improved_professional"] = _share(
        better, sample["v_professional_restriction"].fillna(False).astype(bool)
    )
    s_year = _year(sample["sent_date"])
    out["worse_2005"] = _share(worse, s_year == 2005)
    out["worse_2013"] = _share(worse, s_year == 2013)
    out["improved_good_years"] = _share(better, s_year.isin(_GOOD_YEARS))
    out["improved_good_years_vs_2013"] = out["improved_good_years"] - _share(better, s_year == 2013)
    out["named_countries_gap"] = _share(better, sample["country"].isin(_POSITIVE)) - _share(
        better, sample["country"].isin(_NEGATIVE)
    )
    # Statements about time (Figure 7), subgroups and named countries, one figure each.
    by_year = {int(y): _share(better, s_year == y) for y in sorted(s_year.dropna().unique())}
    for y in _GOOD_YEARS:
        out[f"improved_{y}"] = by_year.get(y, float("nan"))
    # "the low point in 2013": 2013 against the other sample years pooled; "after the low
    # point ... again increased considerably": 2014-2015 pooled against 2013. (That 2013 is
    # the lowest single year and that 2014 and 2015 each rise holds in expectation, see
    # ``triage.synth._expectation``; one seed's single years rest on about 35 cases.)
    in_years = s_year.between(2004, 2015)
    out["improved_2013_low_point"] = by_year.get(2013, float("nan")) - _share(
        better, in_years & (s_year != 2013)
    )
    out["improved_rises_after_2013"] = _share(better, s_year.isin((2014, 2015))) - by_year.get(
        2013, float("nan")
    )
    out["improved_detention_gap"] = out["improved_detention"] - out["improved_no_detention"]
    out["improved_conviction_gap"] = out["improved_convicted"] - out["improved_not_convicted"]
    out["improved_alone_gap"] = out["improved_alone"] - out["improved_joint"]
    negative = sample["country"].isin(_NEGATIVE_NAMED)
    out["named_negative_improved_minus_same_or_worse"] = _share(better, negative) - _share(
        o.isin(("same", "somewhat_worse", "much_worse")), negative
    )
    survey = sample.loc[sample["assessment"] == "survey", "survey_impact"]
    answered = survey.notna()
    out["survey_definitely"] = _share(survey == "definitely", answered)
    out["survey_probably"] = _share(survey == "probably", answered)
    out["survey_unlikely"] = _share(
        survey.isin(("rather_unlikely", "definitely_unlikely")), answered
    )
    out["survey_dont_know"] = int((survey == "dont_know").sum())
    out.update(_measure_supplements(history, supplements or {}, set(sample["case_id"])))
    return out


#: The figures each supplementary file carries (NaN, and so failed, when the file is missing).
_SUPPLEMENT_FIGURES: Final[Mapping[str, tuple[str, ...]]] = {
    "sample_frame": ("sample_frame_drawn", "sample_frame_found"),
    "communication_topics": ("lgbti_unnamed_comms", "lgbti_press_releases"),
    "reply_content": ("rejections_reporting_improvement",),
    "protester_descriptions": ("protesters_not_activists",),
}


def _measure_supplements(
    history: History, sup: Mapping[str, pd.DataFrame], sample_ids: set[str]
) -> dict[str, float]:
    """The figures of the supplementary files (NaN for a missing file)."""
    nan = float("nan")
    out = dict.fromkeys((key for keys in _SUPPLEMENT_FIGURES.values() for key in keys), nan)
    cm = history.communications
    frame = sup.get("sample_frame")
    if frame is not None:
        out["sample_frame_drawn"] = int(frame["case_id"].nunique())
        found = set(frame.loc[frame["information_found"].astype(bool), "case_id"])
        # Found cases count only when they are exactly the assessed sample of outcomes.csv.
        out["sample_frame_found"] = len(found) if found == sample_ids else nan
    topics = sup.get("communication_topics")
    if topics is not None:
        lgbti = topics["issue_areas"].fillna("").str.split(";").map(lambda c: "lgbti_rights" in c)
        kind = topics[["communication_id"]].merge(
            cm[["communication_id", "type", "n_individuals"]], on="communication_id", how="left"
        )
        is_pr = (kind["type"] == "PR").to_numpy()
        nameless = ((kind["type"] != "PR") & (kind["n_individuals"].fillna(0) == 0)).to_numpy()
        out["lgbti_unnamed_comms"] = int((lgbti.to_numpy() & nameless).sum())
        out["lgbti_press_releases"] = int((lgbti.to_numpy() & is_pr).sum())
    content = sup.get("reply_content")
    if content is not None:
        # The reply class is taken from communications.csv, the authority on replies.
        joined = content.merge(
            cm[["communication_id", "reply_class"]],
            on="communication_id",
            how="left",
            suffixes=("_file", ""),
        )
        rejected = (joined["reply_class"] == "rejection").to_numpy()
        reports = joined["reports_improvement"].astype(bool).to_numpy()
        out["rejections_reporting_improvement"] = int((rejected & reports).sum())
    described = sup.get("protester_descriptions")
    if described is not None:
        cs = history.cases
        protesters = cs.loc[cs["protester"].fillna(False).astype(bool), ["case_id", "issue_areas"]]
        joined_p = protesters.merge(described, on="case_id", how="left")
        areas = joined_p["issue_areas"].fillna("")
        # "nor described as pursuing any human rights-related activity other than their presence"
        protest_only = areas.isin(("", "democratic_rights_institutions"))
        called = joined_p["referred_as_activist"].astype("boolean")
        if len(joined_p) and called.notna().all():
            out["protesters_not_activists"] = _share(protest_only & ~called.astype(bool))
    return out


def _rule_text(rule: str, paper: float, tol: float) -> str:
    if rule == "near":
        return f"±{tol:g}"
    if rule == "at_least":
        return f">= {paper - tol:g}"
    return f"<= {paper + tol:g}"


_CHECKS: Final[dict[str, Callable[[float, float, float], bool]]] = {
    "near": lambda g, p, t: abs(g - p) <= t + 1e-9,
    "at_least": lambda g, p, t: g >= p - t - 1e-9,
    "at_most": lambda g, p, t: g <= p + t + 1e-9,
}


def calibration_report(
    history: History,
    *,
    supplements: Mapping[str, pd.DataFrame] | None = None,
    targets_path: str | Path | None = None,
) -> CalibrationReport:
    """Compare a history with the paper's figures.

    Parameters
    ----------
    history : History
        A history as read by ``triage.schema.read_history`` (normally simulated at scale 1).
    supplements : mapping of str to DataFrame, optional
        The supplementary tables (``read_supplements(folder)`` or ``simulate(...,
        supplements=True)``): the impact study's frame, the topics of nameless communications
        and the content of replies. Without them those figures are n/a and fail.
    targets_path : str or Path, optional
        Targets file; defaults to ``data/calibration_targets.csv``.

    Returns
    -------
    CalibrationReport
        ``.table`` (group, figure, paper, generated, tolerance, rule, passed, source, key,
        expected) and ``.passed``. A figure whose measurement is undefined (for example no case of a kind in
        the sample) fails.
    """
    spec = targets(targets_path)
    measured = measure(history, supplements)
    missing = sorted(set(spec["key"]) - set(measured))
    if missing:
        raise ValueError(f"`targets` must name known measurements. Got {missing} instead.")
    rows = []
    for t in spec.to_dict("records"):
        key, rule = str(t["key"]), str(t["rule"])
        paper, tol = float(t["paper"]), float(t["tolerance"])
        g = float(measured[key])
        ok = bool(np.isfinite(g) and _CHECKS[rule](g, paper, tol))
        rows.append(
            {
                "group": t["group"],
                "figure": t["figure"],
                "paper": paper,
                "generated": g,
                "tolerance": tol,
                "rule": _rule_text(rule, paper, tol),
                "passed": ok,
                "source": t["source"],
                "key": key,
                "expected": float(t["expected"]),
            }
        )
    from triage.synth._contracts import check

    return CalibrationReport(check(pd.DataFrame(rows)))
