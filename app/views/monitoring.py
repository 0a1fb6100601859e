"""Monitoring: the paper's Figures 1-8 computed on the registry, and shares against targets."""

from __future__ import annotations

import _charts
import _data
import altair as alt
import pandas as pd
import streamlit as st
from _ui import colour_scale, kept_selectbox, plain, simulated_banner

from triage import monitor
from triage.followup import ENGAGEMENT_CLASSES
from triage.schema import GENDERS, OUTCOMES, UN_REGIONS, VIOLATIONS, countries, label

#: A year's share against its target band, in the order the charts' legends show them.
POSITIONS = ["below the target band", "within the band or no band", "above the target band"]

st.title("Monitoring")
history = _data.history()
simulated_banner(history.simulated)
cases, comms, outcomes = history.cases, history.communications, history.outcomes

first, last = comms["sent_date"].min(), comms["sent_date"].max()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Communications", f"{len(comms):,}")
m2.metric("Individual cases", f"{len(cases):,}")
m3.metric("Individuals", f"{cases['individual_id'].nunique():,}")
m4.metric("Period", f"{first:%Y}–{last:%Y}" if pd.notna(first) else "no data", border=False)
if comms.empty:
    st.info("The registry holds no communications yet. Load a history with `triage db load`.")
    st.stop()


def _country_name(iso3: str) -> str:
    return countries()[iso3].name if iso3 in countries() else iso3


def _off_map(frame: pd.DataFrame, what: str) -> None:
    """Name the states too small to draw at this scale, so none silently disappears."""
    hidden = frame[~frame["country"].isin(_charts.MAP_ISO3)]
    if not hidden.empty:
        items = ", ".join(
            f"{_country_name(c)} ({v})"
            for c, v in zip(hidden["country"], hidden[what], strict=True)
        )
        st.caption(f"Too small to draw on this map: {items}.")


def _table(frame: pd.DataFrame, name: str, key: str) -> None:
    """The numbers behind a chart, with readable column headers (shares in percent)."""
    shown = frame.rename(columns={"year": "Year", "label": "Group", "Label": "Group"})
    config = {
        c: st.column_config.NumberColumn(c, format="percent")
        for c in shown.columns
        if str(c).lower() in ("share", "response rate", "rejection rate")
    }
    with st.expander(f"Data: {name}"):
        st.dataframe(shown, hide_index=True, key=key, column_config=config)


tab_profile, tab_geo, tab_load, tab_outcome, tab_share = st.tabs(
    ["Violations and issue areas", "Maps", "Caseload and delay", "Outcomes", "Shares over time"]
)

with tab_profile:
    for shares, n, title, y_title, name in (
        (
            monitor.violation_shares(cases),
            1,
            "Cases by violation suffered",
            "Violation",
            "violations",
        ),
        (
            monitor.issue_area_shares(cases),
            2,
            "Cases by the defender's issue area, in the paper's six categories",
            "Issue area",
            "issue areas",
        ),
    ):
        st.altair_chart(
            _charts.share_bars(
                shares,
                title=f"Figure {n}. {title} (n={len(cases):,})",
                y_title=y_title,
            ),
            key=f"fig{n}",
        )
        _table(shares.drop(columns="code").rename(columns=str.capitalize), name, f"fig{n}_table")
    st.caption(
        "A case counts once in each category its defender works in, so the shares add up to "
        "more than 100%. The paper's categories join women's and LGBTI rights, and indigenous, "
        "land and environmental rights; the eight areas recorded separately:"
    )
    _table(
        monitor.issue_area_shares(cases, grouped=False)
        .drop(columns="code")
        .rename(columns=str.capitalize),
        "recorded issue areas",
        "fig2_areas_table",
    )

with tab_geo:
    per_country = monitor.communications_by_country(comms)
    # The paper's map shows classes of counts, not a continuous scale.
    classes = ["1–50", "51–100", "101–150", "151–200", "201–300", "more than 300"]
    per_country["class"] = pd.cut(
        per_country["communications"],
        [0, 50, 100, 150, 200, 300, float("inf")],
        labels=classes,
    ).astype(str)
    st.altair_chart(
        _charts.world_map(
            per_country,
            value="class",
            kind="O",
            title=f"Figure 3. Communications per country (n={len(comms):,}; grey: none)",
            legend="Communications",
            tooltip=[alt.Tooltip("communications:Q", title="Communications", format=",")],
            scale=alt.Scale(domain=classes, scheme="blues"),
        ),
        key="fig3",
    )
    _off_map(per_country, "communications")

    engagement = _data.engagement()
    engagement = engagement.assign(
        points=engagement["engagement_index"].astype(float) * 100,
        klass=engagement["engagement"].map(lambda c: ENGAGEMENT_CLASSES[c][0]),
    )
    st.altair_chart(
        _charts.world_map(
            engagement,
            value="points",
            title=f"Figure 6. States' constructive engagement on individual cases "
            f"(n={int(engagement['cases'].sum()):,}; grey: no case)",
            legend="Engagement (points)",
            legend_format="+.0f",
            tooltip=[
                alt.Tooltip("klass:N", title="Class"),
                alt.Tooltip("cases:Q", title="Cases", format=","),
                alt.Tooltip("substantive_reply_rate:Q", title="Response rate", format=".0%"),
                alt.Tooltip("rejection_rate:Q", title="Rejection rate", format=".0%"),
                alt.Tooltip(
                    "mean_response_days:Q", title="Mean response time (days)", format=".0f"
                ),
                alt.Tooltip("points:Q", title="Engagement (points)", format="+.0f"),
            ],
            scale=alt.Scale(scheme="redyellowgreen", domain=[-100, 100]),
        ),
        key="fig6",
    )
    st.caption(
        "Engagement runs from −100 (no response) to +100 (full response, no rejection): the "
        "response rate (immaterial replies excluded) minus the rejection rate, in points. Each "
        "country's class is written in its tooltip and in the table below."
    )
    _off_map(engagement, "cases")
    _table(
        engagement[
            [
                "country_name",
                "cases",
                "substantive_reply_rate",
                "rejection_rate",
                "mean_response_days",
                "points",
                "klass",
            ]
        ].rename(
            columns={
                "country_name": "Country",
                "cases": "Cases",
                "substantive_reply_rate": "Response rate",
                "rejection_rate": "Rejection rate",
                "mean_response_days": "Mean response time (days)",
                "points": "Engagement (points)",
                "klass": "Class",
            }
        ),
        "state engagement",
        "fig6_table",
    )

    improvement = monitor.improvement_by_country(cases, outcomes)
    n_sample = int(improvement["cases"].sum())
    st.altair_chart(
        _charts.world_map(
            improvement,
            value="share_improved",
            title=f"Figure 8. Share of impact-sample cases improved within a year (n={n_sample:,})",
            legend="Improved (%)",
            legend_format="%",
            tooltip=[
                alt.Tooltip("cases:Q", title="Sample cases"),
                alt.Tooltip("improved:Q", title="Improved"),
                alt.Tooltip("share_improved:Q", title="Share improved", format=".0%"),
            ],
            scale=alt.Scale(scheme="greens", domain=[0, 1]),
        ),
        key="fig8",
    )
    st.caption("Fewer than five sample cases in many countries: read as a cautious indication.")
    _off_map(improvement, "cases")

with tab_load:
    load = monitor.caseload_by_year(comms, cases)
    series_colours = alt.Scale(
        domain=[
            "All communications (incl. press releases)",
            "Communications on individual cases",
            "Urgent appeals",
            "Sent by the HRD mandate alone",
            "Individual cases",
        ],
        range=["#000000", "#009E73", "#D55E00", "#0072B2", "#999999"],
    )
    st.altair_chart(
        alt.Chart(load)
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title="Year sent"),
            y=alt.Y("count:Q", title="Number per year"),
            color=alt.Color(
                "series:N",
                scale=series_colours,
                legend=alt.Legend(title="Series", orient="right", labelLimit=320),
            ),
            strokeDash=alt.StrokeDash("series:N", legend=None),
            tooltip=["year:O", "series:N", alt.Tooltip("count:Q", title="Number", format=",")],
        )
        .properties(title="Figure 4. Yearly caseload", width="container", height=360),
        key="fig4",
    )
    _table(
        load.pivot(index="year", columns="series", values="count").reset_index(),
        "caseload",
        "fig4_table",
    )

    by_mandates, slope = monitor.ua_delay_by_mandates(comms)
    by_year = monitor.ua_delay_by_year(comms)
    left, right = st.columns(2)
    base = alt.Chart(by_mandates).encode(
        x=alt.X("n_mandates:O", title="Mandates signing the urgent appeal")
    )
    left.altair_chart(
        (
            base.mark_errorbar().encode(
                y=alt.Y("ci_low:Q", title="Mean days from last incident to appeal"), y2="ci_high:Q"
            )
            + base.mark_point(filled=True, size=60, color="#D55E00").encode(
                y="mean_delay_days:Q",
                tooltip=[
                    alt.Tooltip("n_mandates:O", title="Mandates"),
                    alt.Tooltip("appeals:Q", title="Appeals", format=","),
                    alt.Tooltip("mean_delay_days:Q", title="Mean delay (days)", format=".1f"),
                ],
            )
        ).properties(
            title="Figure 5a. Delay by mandates signing (95% interval)",
            width="container",
            height=320,
        ),
        key="fig5a",
    )

    def _yearly(column: str, title: str, colour: str) -> alt.Chart:
        return (
            alt.Chart(by_year)
            .mark_line(point=True, color=colour)
            .encode(
                x=alt.X("year:O", title="Year sent"),
                y=alt.Y(f"{column}:Q", title=title),
                tooltip=[
                    alt.Tooltip("year:O", title="Year"),
                    alt.Tooltip("appeals:Q", title="Urgent appeals"),
                    alt.Tooltip(f"{column}:Q", title=title, format=".1f"),
                ],
            )
            .properties(width="container", height=140)
        )

    right.altair_chart(
        alt.vconcat(
            _yearly("mean_delay_days", "Mean delay (days)", "#D55E00"),
            _yearly("mean_mandates", "Mean mandates signing", "#0072B2"),
        ).properties(title="Figure 5b. Urgent appeals per year: delay and co-signers"),
        key="fig5b",
    )
    if slope == slope:
        st.markdown(
            f"Each additional mandate co-signing an urgent appeal goes with **{slope:.1f} more days** "
            "of delay on average (least squares over all urgent appeals; the paper: more than a week)."
        )

with tab_outcome:
    by_year_outcome = monitor.outcomes_by_year(cases, outcomes)
    by_year_outcome["Outcome"] = by_year_outcome["outcome"].map(label)
    n_sample = int(by_year_outcome["cases"].sum())
    st.altair_chart(
        alt.Chart(by_year_outcome)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year the communication was sent"),
            y=_charts.percent(
                "y", "share:Q", "Share of impact-sample cases (%)", stack="normalize"
            ),
            color=alt.Color(
                "Outcome:N", scale=colour_scale("outcome"), sort=[label(c) for c in OUTCOMES]
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                "year:O",
                "Outcome:N",
                alt.Tooltip("cases:Q", title="Cases"),
                alt.Tooltip("share:Q", title="Share", format=".0%"),
            ],
        )
        .transform_calculate(order=f"indexof({[label(c) for c in OUTCOMES]!r}, datum.Outcome)")
        .properties(
            title=f"Figure 7. Situation one year after the communication (n={n_sample:,})",
            width="container",
            height=360,
        ),
        key="fig7",
    )
    _table(
        by_year_outcome.pivot(index="year", columns="Outcome", values="cases")
        .fillna(0)
        .astype(int)
        .reset_index(),
        "outcomes",
        "fig7_table",
    )

with tab_share:
    policy = _data.load_policy(_data.current_policy_path())
    dims = {"un_region": UN_REGIONS, "gender": GENDERS, "violations": VIOLATIONS}
    dim = kept_selectbox(
        "Group",
        list(dims),
        key="m_dim",
        format_func={
            "un_region": "UN regional group",
            "gender": "Gender",
            "violations": "Violation",
        }.__getitem__,
    )
    shares = monitor.shares_by_year(cases, dim, dims[dim])
    bands = policy.shares.get(dim, {})
    shares["label"] = shares["code"].map(label)
    shares["band_min"] = shares["code"].map(lambda c: bands[c].min if c in bands else None)
    shares["band_max"] = shares["code"].map(lambda c: bands[c].max if c in bands else None)
    shares["position"] = [
        "below the target band"
        if lo == lo and lo is not None and s < lo
        else "above the target band"
        if hi == hi and hi is not None and s > hi
        else "within the band or no band"
        for s, lo, hi in zip(shares["share"], shares["band_min"], shares["band_max"], strict=True)
    ]
    last_year = int(shares["year"].max())
    latest = shares[shares["year"] == last_year]
    under = latest[latest["position"] == "below the target band"]
    if not under.empty:
        st.warning(
            f"Under-represented in {last_year} against policy **{plain(policy.name)}**: "
            + "; ".join(
                f"{r.label} {r.share:.1%} (target at least {r.band_min:.0%})"
                for r in under.itertuples()
            ),
            icon=":material/trending_down:",
        )
    else:
        st.success(
            f"No group is below its target band in {last_year} (policy {plain(policy.name)})."
        )
    colour = colour_scale(dim) if dim in ("un_region", "gender") else alt.value("#4d4d4d")
    has_band = shares["code"].isin(list(bands))
    shares["band_lo"] = shares["band_min"].astype(float).fillna(0.0).where(has_band)
    # A band without a ceiling is drawn up to a little above the group's highest share, and
    # each group has its own axis: a 0-100% axis would flatten small shares and violations.
    top = shares.groupby("code")["share"].transform("max")
    shares["band_hi"] = (
        shares["band_max"].astype(float).fillna((top * 1.25 + 0.02).clip(upper=1.0)).where(has_band)
    )
    base = alt.Chart().encode(x=alt.X("year:O", title="Year sent"))
    band = base.mark_area(opacity=0.25, color="#9ecae1").encode(
        y=_charts.percent("y", "band_lo:Q", "Share of the year's cases (%)"),
        y2="band_hi:Q",
    )
    line = base.mark_line().encode(
        y="share:Q",
        color=alt.Color("label:N", scale=colour, legend=None) if dim != "violations" else colour,
    )
    points = base.mark_point(filled=True, size=50).encode(
        y="share:Q",
        shape=alt.Shape(
            "position:N",
            title="Against the target",
            scale=alt.Scale(
                domain=POSITIONS,
                range=["triangle-down", "circle", "triangle-up"],
            ),
        ),
        color=alt.Color(
            "position:N",
            legend=None,
            scale=alt.Scale(
                domain=POSITIONS,
                range=["#d73027", "#4d4d4d", "#4575b4"],
            ),
        ),
        tooltip=[
            "year:O",
            alt.Tooltip("label:N", title="Group"),
            alt.Tooltip("cases:Q", title="Cases"),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
            alt.Tooltip("band_min:Q", title="Target min", format=".0%"),
            alt.Tooltip("band_max:Q", title="Target max", format=".0%"),
            alt.Tooltip("position:N", title="Against the target"),
        ],
    )
    st.altair_chart(
        alt.layer(band, line, points, data=shares)
        .resolve_scale(color="independent")
        .properties(width=220, height=150)
        .facet(facet=alt.Facet("label:N", title=None), columns=3)
        .resolve_scale(y="independent")
        .properties(
            title=f"Share of cases per year by group, against the bands of policy {policy.name} (shaded)"
        ),
        key="shares_chart",
    )
