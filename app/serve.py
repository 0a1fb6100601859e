"""Serve the app with its caches filled at server start: ``python app/serve.py [options]``.

The options are ``streamlit run``'s (``--server.port 8501`` …). Streamlit runs the app's script
only when the first browser session opens, so a plain ``streamlit run`` makes the first visitor
wait for every import and the first reads of the registry. This does that work first
(``_data.warm_server``), in the server's own process, then starts the same server: the modules
it imports and the shared caches it fills are the ones the pages then use.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE / "streamlit_app.py"


def main(argv: list[str] | None = None) -> None:
    """Fill the first page's caches, then ``streamlit run app/streamlit_app.py`` with ``argv``.

    The server answers only once the first page's data is in memory (a few seconds more at
    start); the model and the other pages' data load in the background once the first page has
    drawn.
    """
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    # Imported before Streamlit's runtime exists: its data caches then say, once each, that
    # they keep results in memory, which is what they do under the runtime too.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    import _data

    _data.warm_server()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
