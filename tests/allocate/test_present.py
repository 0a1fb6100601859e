"""Allocation results in words (``triage.allocate._present``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.allocate import (
    Policy,
    achieved_vs_bands,
    allocate,
    constraint_phrase,
    constraint_words,
    explain_selection,
    price_of_balance,
    price_table,
)
from triage.allocate._synthetic import random_candidates
from triage.schema import GENDERS, UN_REGIONS, VIOLATIONS, label


def test_constraint_words_name_the_group_and_the_direction() -> None:
    assert constraint_words("share_min[gender=woman]") == "Woman: at least (share of selected)"
    assert constraint_words("share_max[un_region=weog]").startswith("Western European")
    assert constraint_words("max_per_country[country=KEN]") == "Kenya: at most (cases)"
    assert constraint_words("capacity") == "Capacity (cases selected)"


_POLICY = (
    "name='x'\ncapacity=90\n[share.gender]\nwoman={min=0.4}\n"
    "[share.violations]\ndetention={max=0.5}\n[limit]\nmax_per_country=15\n"
)


def test_constraint_phrase_says_the_band_and_the_count_in_words() -> None:
    policy = Policy.from_toml(_POLICY)
    assert (
        constraint_phrase("share_max[violations=detention]", target=45, policy=policy)
        == "the ceiling for Detention (50% of the selection, 45 cases)"
    )
    assert (
        constraint_phrase("share_min[gender=woman]", target=36, policy=policy)
        == "the floor for Woman (at least 40% of the selection, 36 cases)"
    )
    assert (
        constraint_phrase("max_per_country[country=KEN]", target=15)
        == "the limit of 15 cases from Kenya"
    )
    assert constraint_phrase("capacity", target=90) == "the capacity of 90 cases"
    # Without a policy the share is unknown and left out rather than guessed.
    assert constraint_phrase("share_max[violations=detention]", target=45) == (
        "the ceiling for Detention (45 cases)"
    )
    assert constraint_phrase("something_new[x=y]") == "something_new[x=y]"


def test_reasons_are_plain_words_and_keep_the_exact_constraint_names() -> None:
    cands = random_candidates(300, seed=3, n_countries=10)
    policy = Policy.from_toml(_POLICY)
    result = allocate(cands, policy)
    reasons = explain_selection(cands, policy, result)
    names = set(result.constraints["name"])
    full = reasons[reasons["reason"].str.contains(" full;")]
    assert len(full) > 0
    for text in full["reason"]:
        words, _, tail = text.rpartition(" [")
        # The sentence itself carries no raw constraint name...
        assert "[" not in words and "share_max" not in words and "max_per_country" not in words
        # ...and every name at the end is a real constraint of the allocation.
        assert tail.endswith("].")
        cited = tail.removesuffix("].").split("; ")
        assert cited and set(cited) <= names
        if "share_max[violations=detention]" in cited:
            assert "the ceiling for Detention (50% of the selection, 45 cases)" in words
    helped = reasons[reasons["reason"].str.startswith("Selected to meet")]
    for text in helped["reason"]:
        assert "the floor for Woman (at least 40% of the selection" in text
        assert text.endswith("[share_min[gender=woman]].")


def test_price_table_puts_binding_targets_first_in_words() -> None:
    cands = random_candidates(300, seed=3, n_countries=10)
    policy = Policy.from_toml(_POLICY)
    table = price_table(price_of_balance(cands, policy))
    binding = table["Binding"].eq("● binding").to_numpy()
    # Binding rows come first, costliest first.
    assert binding[: binding.sum()].all() and not binding[binding.sum() :].any()
    costs = table.loc[binding, "Cost"].to_numpy()
    assert (costs[:-1] >= costs[1:] - 1e-12).all()
    assert "Woman: at least (share of selected)" in set(table["Target"])
    assert not table["Target"].str.contains(r"\[").any()


def test_achieved_vs_bands_matches_the_allocation() -> None:
    cands = random_candidates(300, seed=3, n_countries=10)
    policy = Policy.from_toml(_POLICY)
    result = allocate(cands, policy)
    table = achieved_vs_bands(result, policy).set_index(["dimension", "group"])
    chosen = cands[cands["case_id"].isin(result.selected)]
    women = (chosen["gender"] == "woman").sum()
    row = table.loc[("gender", "woman")]
    assert row["Selected"] == women
    assert row["share"] == pytest.approx(women / len(result.selected))
    assert row["band_lo"] == pytest.approx(0.4) and row["band_hi"] == pytest.approx(1.0)
    assert row["share"] >= 0.4 - 1e-9
    assert table.loc[("un_region", "african"), "Band"] == "no band"


_DIMS = {"un_region": UN_REGIONS, "gender": GENDERS, "violations": VIOLATIONS}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(_DIMS)).flatmap(
        lambda d: st.tuples(st.just(d), st.sampled_from(sorted(_DIMS[d])))
    ),
    st.sampled_from(["share_min", "share_max"]),
    st.integers(0, 2000),
)
def test_every_band_phrase_names_its_group_in_words(
    group: tuple[str, str], kind: str, target: int
) -> None:
    dim, code = group
    text = constraint_phrase(f"{kind}[{dim}={code}]", target=target)
    assert "[" not in text and "=" not in text and code not in text.split()
    assert label(code) in text and f"{target} cases" in text


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000))
def test_reason_sentences_never_show_raw_names_before_the_brackets(seed: int) -> None:
    cands = random_candidates(150, seed=seed, n_countries=8)
    policy = Policy.from_toml(
        "name='r'\ncapacity=50\n[share.gender]\nwoman={min=0.4}\n"
        "[share.violations]\ndetention={max=0.45}\n[limit]\nmax_per_country=9\n"
    )
    result = allocate(cands, policy)
    reasons = explain_selection(cands, policy, result)
    names = set(result.constraints["name"])
    for text in reasons["reason"]:
        words, bracket, tail = text.partition(" [")
        assert "[" not in words and "_" not in words, text
        if bracket:
            assert set(tail.removesuffix("].").split("; ")) <= names, text
