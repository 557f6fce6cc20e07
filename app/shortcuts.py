"""Keyboard shortcuts for the review buttons (``streamlit-shortcuts``), safe while typing a note.

``streamlit_shortcuts.add_shortcuts`` listens to every keydown on the page, so typing "a" in the
note field would press Accept. A tiny guard re-registers its listener so that keys typed into an
input, a text area or an editable element are left alone.
"""

from __future__ import annotations

import streamlit as st
from streamlit_shortcuts import add_shortcuts

_GUARD = """<script>
(function () {
  const w = window.parent.window, doc = window.parent.document;
  function guard() {
    const inner = w.__streamlitShortcutsListener;
    if (!inner) { return false; }
    if (inner.__mimeaGuarded) { return true; }
    const guarded = function (e) {
      const t = e.target;
      const tag = t && t.tagName ? t.tagName.toLowerCase() : "";
      if (tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable)) { return; }
      return inner(e);
    };
    guarded.__mimeaGuarded = true;
    doc.removeEventListener("keydown", inner);
    doc.addEventListener("keydown", guarded);
    w.__streamlitShortcutsListener = guarded;
    return true;
  }
  if (!guard()) {
    let tries = 0;
    const timer = setInterval(function () { if (guard() || ++tries > 100) { clearInterval(timer); } }, 100);
  }
})();
</script>"""


def review_shortcuts(**keys: str) -> None:
    """Bind ``button_key="letter"`` shortcuts, ignored while the user types in a field."""
    add_shortcuts(**keys)
    st.iframe(_GUARD, height=1, width=1)  # our own constant script, never data
