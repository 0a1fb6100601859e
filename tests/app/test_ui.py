"""Shared rendering helpers of the app (``app/_ui.py``): counts in words, the "working" sign."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))

from _ui import plural


@given(st.integers(min_value=0, max_value=10**7))
def test_a_count_reads_as_words(n: int) -> None:
    text = plural(n, "case")
    number, noun = text.split(" ")
    assert int(number.replace(",", "")) == n
    assert noun == ("case" if n == 1 else "cases")
    assert "(s)" not in text
    assert plural(n, "person", "people").endswith("person" if n == 1 else "people")


def _slow_page() -> None:
    import sys
    import time

    import streamlit as st

    sys.path.insert(0, APP_DIR)  # noqa: F821 (set in the script's globals by the test)
    from _ui import working

    with working("Working: re-solving…", delay=DELAY):  # noqa: F821
        time.sleep(0.4)
    st.write("new numbers")


def test_the_working_sign_is_gone_once_the_update_is_drawn() -> None:
    app_dir = str(Path(__file__).resolve().parents[2] / "app")
    for delay in (0.05, 5.0):  # shown during the block, or never (a short update)
        script = f"APP_DIR = {app_dir!r}\nDELAY = {delay!r}\n" + "\n".join(
            line[4:] for line in _source(_slow_page).splitlines()[1:]
        )
        at = AppTest.from_string(script, default_timeout=60).run()
        assert not at.exception
        assert [m.value for m in at.markdown] == ["new numbers"]
        assert not at.info  # the sign never outlives the update


def _source(fn: object) -> str:
    import inspect

    return inspect.getsource(fn)  # type: ignore[arg-type]
