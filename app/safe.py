"""Showing data text inert.

Entity names, URIs and attribute values come from files the user did not write. The pages show
them with ``st.text``/``st.dataframe`` (never as markdown or HTML); where a message must go through
a markdown-rendering element (``st.error``, ``st.info``, ...), :func:`md` escapes it first.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of them
# also disarms Streamlit's extensions (":emoji:", ":red[...]", "$math$").
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md(text: object) -> str:
    """``text`` escaped so that markdown renders it literally (no emphasis, links, HTML, math)."""
    return _PUNCT.sub(r"\\\1", str(text)).replace("\n", "  \n")
