"""Pseudonyms, role-based redaction and the spreadsheet formula-injection guard."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.audit import names_allowed, pseudonym, pseudonym_key, redact, safe_cell, safe_frame

KEY = bytes(range(32))


def test_pseudonym_is_stable_keyed_and_normalised() -> None:
    a = pseudonym("Ana Ruiz", KEY)
    assert a.startswith("P-") and len(a) == 14
    assert pseudonym("  ana   RUIZ ", KEY) == a
    assert pseudonym("Ana Ruiz", bytes(reversed(KEY))) != a
    assert pseudonym("Ana Ruix", KEY) != a
    assert "Ana" not in a and "Ruiz" not in a
    assert pseudonym(None, KEY) == "" and pseudonym(float("nan"), KEY) == ""


def test_pseudonym_rejects_weak_keys() -> None:
    with pytest.raises(ValueError, match="`key` must be bytes"):
        pseudonym("x", b"short")


def test_key_is_created_once_private_and_reused(tmp_path) -> None:
    key = pseudonym_key(tmp_path)
    assert len(key) == 32 and pseudonym_key(tmp_path) == key
    mode = stat.S_IMODE(os.stat(tmp_path / "pseudonym.key").st_mode)
    assert mode == 0o600


def test_default_key_lives_in_var(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TRIAGE_VAR", str(tmp_path))
    pseudonym_key()
    assert (tmp_path / "pseudonym.key").exists()


FRAME = pd.DataFrame(
    {
        "case_id": ["Q1", "Q2"],
        "defender_name": ["Ana Ruiz", "Li Wei"],
        "source_contact": ["ngo@example.org", None],
        "country": ["MEX", "CHN"],
    }
)


@pytest.mark.parametrize("role", ["staff", "mandate_holder", "auditor"])
@pytest.mark.parametrize("view", ["list", "export", "log"])
def test_names_hidden_outside_the_case_page(role: str, view: str) -> None:
    out = redact(FRAME, role, view=view, key=KEY)  # type: ignore[arg-type]
    assert list(out.columns) == [
        "case_id",
        "defender_name_pseudonym",
        "source_contact_pseudonym",
        "country",
    ]
    text = out.to_csv()
    assert "Ana Ruiz" not in text and "ngo@example.org" not in text
    assert out.loc[0, "defender_name_pseudonym"] == pseudonym("Ana Ruiz", KEY)
    assert out.loc[1, "source_contact_pseudonym"] == ""


def test_staff_and_mandate_holder_see_names_on_the_case_page() -> None:
    for role in ("staff", "mandate_holder"):
        assert names_allowed(role, "case")  # type: ignore[arg-type]
        out = redact(FRAME, role, view="case", key=KEY)  # type: ignore[arg-type]
        assert out.equals(FRAME) and out is not FRAME


def test_auditor_never_sees_names() -> None:
    assert not names_allowed("auditor", "case")
    out = redact(FRAME, "auditor", view="case", key=KEY)
    assert "defender_name" not in out.columns and "Ana Ruiz" not in out.to_csv()


def test_redact_validates_arguments() -> None:
    with pytest.raises(ValueError, match="`role` must be one of"):
        redact(FRAME, "admin", key=KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`view` must be one of"):
        redact(FRAME, "staff", view="page", key=KEY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (-3, -3),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


@given(st.text())
def test_safe_cell_output_never_starts_a_formula(text: str) -> None:
    out = safe_cell(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out.endswith(text) and len(out) - len(text) in (0, 1)


def test_safe_frame_guards_cells_and_headers_but_not_numbers() -> None:
    frame = pd.DataFrame({"=bad": ["=1+1", "ok", None], "n": [-1, 2, 3]})
    out = safe_frame(frame)
    assert list(out.columns) == ["'=bad", "n"]
    assert out.iloc[0, 0] == "'=1+1" and out.iloc[1, 0] == "ok" and pd.isna(out.iloc[2, 0])
    assert out["n"].tolist() == [-1, 2, 3]
    assert frame.iloc[0, 0] == "=1+1"  # the input is untouched


names = st.text(alphabet=st.characters(categories=["L"]), min_size=4, max_size=12).map(
    lambda s: "Nm" + s
)


@given(
    st.lists(st.tuples(names, names), min_size=1, max_size=6),
    st.sampled_from(["staff", "mandate_holder", "auditor"]),
    st.sampled_from(["list", "case", "export", "log"]),
)
def test_redact_never_leaks_unless_allowed(people, role, view) -> None:
    frame = pd.DataFrame(
        {
            "case_id": [f"Q{i}" for i in range(len(people))],
            "defender_name": [p[0] for p in people],
            "source_contact": [p[1] for p in people],
        }
    )
    out = redact(frame, role, view=view, key=KEY)
    text = out.to_csv(index=False)
    if names_allowed(role, view):
        assert out.equals(frame)
    else:
        for defender, source in people:
            assert defender not in text and source not in text
        # The same name always gets the same pseudonym, different names different ones.
        mapping = dict(zip(frame["defender_name"], out["defender_name_pseudonym"], strict=True))
        assert len(set(mapping.values())) == len({" ".join(n.split()).casefold() for n in mapping})
