"""Warming the app's caches, so that no visitor waits for the server's first imports and reads.

``warm_server`` runs before the server answers (``app/serve.py``); ``warm_up`` fills the slower
caches on a background thread once the first page has drawn. Both only call the cached loaders
of ``_data``, keyed as the pages key them, so a page finds them filled.
"""

from __future__ import annotations

import time
from typing import Any

from _data import (
    _allocation,
    _case_views,
    _decisions_index,
    _engagement,
    _first_page,
    _history_read,
    _model,
    _scored_queue,
    default_model_dir,
    default_policy_path,
)

from triage.config import db_url

_WARMING: dict[str, Any] = {}


def warm_server() -> None:
    """Fill what the first page of any role needs, before the server answers (``app/serve.py``).

    Streamlit runs the app's script only when the first browser session opens, so without this
    the first visitor waits for the imports (pandas, pyarrow, SQLAlchemy, Altair, triage) and
    the first reads of the registry (about 3 s of CPU on the demo registry). Everything here is
    a shared cache keyed like a page's own call, so the page finds it filled. The slower rest
    (the model, the Case page's views, the policy's reasons) fills in the background once the
    first page has drawn (``warm_up``), so it never competes with it. Errors are left for the
    page to report.
    """
    import altair  # noqa: F401  # the charts: most of a second of imports on first use
    import pyarrow  # noqa: F401  # the tables' wire format

    import triage.allocate
    import triage.audit  # noqa: F401

    url, model_path = db_url(), str(default_model_dir())
    try:
        _first_page(url, model_path)
        _scored_queue(url, model_path)
        _decisions_index(url)
        _history_read(url)  # Targets, Selection, Monitoring and Case read it
    except Exception:
        return


def _default_policy_toml() -> str | None:
    path = default_policy_path()
    if not path.exists():
        return None
    try:
        from triage.allocate import Policy

        return Policy.from_toml(path.read_text(encoding="utf-8")).to_toml()
    except Exception:
        return None


#: Seconds the background warm-up waits after the first page's script run: the browser is
#: still fetching the app's scripts and drawing that page, and the warm-up's Python work would
#: hold the interpreter lock the server needs to send them.
WARM_UP_DELAY = 2.5


def _warm(url: str, model_path: str, policy_toml: str | None) -> None:
    time.sleep(WARM_UP_DELAY)
    try:
        # Parsing the bootstrap boosters takes seconds: recording a run and a case missing from
        # the stored views need the model. The queue's SHAP table is never computed here (it
        # is precomputed by ``triage demo prepare``; a miss explains one case at a time).
        _model(model_path)
        _case_views(url, model_path)
        _engagement(url)
        if policy_toml is not None:
            _allocation(url, model_path, policy_toml)
    except Exception:
        return


def warm_up() -> None:
    """Start filling the slow caches (the model, the Case page's views, policy reasons, state
    records) in the background, once per registry: the first page shows while these finish."""
    import threading

    url = db_url()
    if url in _WARMING:
        return
    thread = threading.Thread(
        target=_warm,
        args=(url, str(default_model_dir()), _default_policy_toml()),
        daemon=True,
        name="triage-warm-up",
    )
    _WARMING[url] = thread
    thread.start()
