"""Keyboard shortcuts for the review buttons (``streamlit-shortcuts``), robust across pages and typing.

``streamlit_shortcuts.add_shortcuts`` registers the key map on the page and installs one keydown
listener, defined inside its component iframe. Two problems in this app, found with the browser test:

- in a multipage app the iframe is removed when the user visits another page; a listener whose
  iframe is gone no longer fires, and the package never installs a new one (it keeps a flag on the
  parent window), so the shortcuts stop working after the first page change;
- the listener also fires while the user types in a text field: typing "a" in the note would
  press Accept.

So we keep the package's key map (``add_shortcuts``) and replace its listener with one created in
the parent page's own realm (``new parent.Function``), which outlives every iframe, listens in the
capture phase on the window (Streamlit's own handlers cannot swallow the key), and ignores keys
typed into inputs, text areas, selects and editable elements. A matched key is stopped there, so
Streamlit's own letter bindings ("r" = rerun) never see it: one press is one script run. The
decision store also records each shown decision form once (an action token), whatever the key
handling delivers.
"""

from __future__ import annotations

import json

import streamlit as st
from streamlit_shortcuts import add_shortcuts

# Runs in the parent page (created with the parent's Function constructor): `window`/`document`
# are the app's. Same matching rules as streamlit-shortcuts.
_LISTENER = r"""
const t = e.target;
const tag = t && t.tagName ? t.tagName.toLowerCase() : "";
if (tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable)) { return; }
const all = window.__streamlitShortcutsMap || {};
for (const [key, value] of Object.entries(all)) {
  for (const shortcut of [].concat(value)) {
    const parts = String(shortcut).toLowerCase().split("+");
    const mods = ["ctrl", "alt", "shift", "meta", "cmd"];
    const main = parts.find(p => !mods.includes(p));
    if (parts.includes("ctrl") === e.ctrlKey && parts.includes("alt") === e.altKey &&
        parts.includes("shift") === e.shiftKey && (parts.includes("meta") || parts.includes("cmd")) === e.metaKey &&
        (e.key || "").toLowerCase() === main) {
      const el = document.querySelector(".st-key-" + key + " button") || document.querySelector(".st-key-" + key + " input");
      // Ours alone: Streamlit binds some letters itself ("r" reruns the script), and a key seen by
      // both would send two script runs for one press.
      if (el) { e.preventDefault(); e.stopImmediatePropagation(); el.click(); }
      return;
    }
  }
}
"""

# Also runs in the parent realm: it installs our listener in place of the package's (polling on the
# parent's own timers until the package has registered its map).
_INSTALLER = r"""
if (!window.__mimeaShortcutListener) {
  window.__mimeaShortcutListener = new Function("e", __LISTENER__);
  window.__mimeaShortcutListener.__mimeaGuarded = true;
}
const tries = arguments[0] || 0;
if (!window.__streamlitShortcutsInitialized) {
  if (tries < 100) { setTimeout(function () { window.__mimeaInstallShortcuts(tries + 1); }, 100); }
  return;
}
const current = window.__streamlitShortcutsListener;
if (current !== window.__mimeaShortcutListener) {
  if (current) { document.removeEventListener("keydown", current); }
  window.addEventListener("keydown", window.__mimeaShortcutListener, true);  // capture phase
  window.__streamlitShortcutsListener = window.__mimeaShortcutListener;
}
""".replace("__LISTENER__", json.dumps(_LISTENER))

_INSTALL = """<script>
const w = window.parent.window;
if (!w.__mimeaInstallShortcuts) { w.__mimeaInstallShortcuts = new w.Function(__INSTALLER__); }
w.setTimeout(w.__mimeaInstallShortcuts, 0);
</script>""".replace("__INSTALLER__", json.dumps(_INSTALLER))


def review_shortcuts(**keys: str) -> None:
    """Bind ``button_key="letter"`` shortcuts (ignored while the user types in a field)."""
    add_shortcuts(**keys)
    st.iframe(_INSTALL, height=1, width=1)  # our own constant script, never data
