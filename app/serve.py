"""Serve the app with its caches filled at server start: ``python app/serve.py [options]``.

The options are ``streamlit run``'s (``--server.port 8501`` …). Streamlit runs the app's script
only when the first browser session opens, so a plain ``streamlit run`` makes the first visitor
wait for every import and the first reads of the registry. This does that work first
(``_warm.warm_server``), in the server's own process, then starts the same server: the modules
it imports and the shared caches it fills are the ones the pages then use.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE / "streamlit_app.py"


_NOISY = (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
)


class _Quiet(logging.Filter):
    """Drops the warnings of Streamlit's caches used before its runtime started."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "No runtime found" not in message and "missing ScriptRunContext" not in message


def main(argv: list[str] | None = None) -> None:
    """Fill the first page's caches, then ``streamlit run app/streamlit_app.py`` with ``argv``.

    The server answers only once the first page's data is in memory (a few seconds more at
    start); the model and the other pages' data load in the background once the first page has
    drawn.
    """
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    # Before Streamlit's runtime exists its caches say, once each, that they keep results in
    # memory (as they do under the runtime) and that no script run is going: true and harmless.
    quiet = _Quiet()
    loggers = [logging.getLogger(name) for name in _NOISY]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        import _warm

        _warm.warm_server()
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
