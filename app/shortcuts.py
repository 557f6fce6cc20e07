"""Keyboard shortcuts for the review buttons, robust across pages and typing.

We used ``streamlit_shortcuts.add_shortcuts``, which registers a key map on the page and installs
one keydown listener, defined inside an ``st.components.v1.html`` iframe (deprecated by Streamlit:
dozens of warnings per server log). Now the key map and the listener are both installed by our own
one-pixel ``st.iframe`` script. Problems the package had in this app, found with the browser test:

- in a multipage app the iframe is removed when the user visits another page; a listener whose
  iframe is gone no longer fires, and the package never installs a new one (it keeps a flag on the
  parent window), so the shortcuts stop working after the first page change;
- the listener also fires while the user types in a text field: typing "a" in the note would
  press Accept.

So the listener is created in the parent page's own realm (``new parent.Function``), which
outlives every iframe, listens in the capture phase on the window (Streamlit's own handlers cannot
swallow the key), stops the key from reaching them (``r`` is also Streamlit's "rerun" key: one
press must not also rerun the page), and ignores keys typed into inputs, text areas, selects and
editable elements. The map (``window.__streamlitShortcutsMap``, button key -> letter) keeps the
package's name and format. The decision store also records each shown decision form once (an
action token), whatever the key handling delivers.
"""

from __future__ import annotations

import json

import streamlit as st

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
const current = window.__streamlitShortcutsListener;
if (current !== window.__mimeaShortcutListener) {
  if (current) { document.removeEventListener("keydown", current); }
  window.addEventListener("keydown", window.__mimeaShortcutListener, true);  // capture phase
  window.__streamlitShortcutsListener = window.__mimeaShortcutListener;
}
""".replace("__LISTENER__", json.dumps(_LISTENER))

_INSTALL = """<script>
const w = window.parent.window;
w.__streamlitShortcutsMap = Object.assign(w.__streamlitShortcutsMap || {}, __MAP__);
w.__streamlitShortcutsInitialized = true;
if (!w.__mimeaInstallShortcuts) { w.__mimeaInstallShortcuts = new w.Function(__INSTALLER__); }
w.setTimeout(w.__mimeaInstallShortcuts, 0);
</script>""".replace("__INSTALLER__", json.dumps(_INSTALLER))


def review_shortcuts(**keys: str) -> None:
    """Bind ``button_key="letter"`` shortcuts (ignored while the user types in a field).

    Keys and letters come from our code (identifiers and single letters), never from data.
    """
    for button, letter in keys.items():
        if not (button.isidentifier() and len(letter) == 1 and letter.isalnum()):
            raise ValueError(f"bad shortcut {button}={letter!r}")
    st.iframe(_INSTALL.replace("__MAP__", json.dumps(keys)), height=1, width=1)
