"""Running app pages headless with Streamlit's AppTest, and reading what they show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"
TIMEOUT = 120
AppEnv = Any  # tests/app/conftest.py: AppEnv (root, var, models, db_url)


def open_page(
    page: str | None,
    *,
    role: str = "staff",
    policy: str = "saved/test.toml",
    params: dict[str, str | list[str]] | None = None,
) -> AppTest:
    """Run the app signed in (open demo) as ``role``, then switch to ``page`` if given."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["as"] = role
    at.query_params["policy"] = policy
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """All visible text of markdown, captions, alerts and metrics, joined."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [a.value for a in (*at.warning, *at.info, *at.success, *at.error)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def find_table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table shown with all these columns (plain tables carry no key in AppTest);
    a static table's index counts as a column."""
    frames = [f.value for f in at.dataframe] + [t.value.reset_index() for t in at.table]
    for value in frames:
        if all(c in value.columns for c in columns):
            return value
    raise AssertionError(f"no table with columns {columns}")
