"""One real-browser test: Playwright drives Debian's chromium against `streamlit run` on 127.0.0.1.

Main flow: open the app, go to the review queue (leave it and come back), type a note (its "a"s
must not press Accept), accept the pair with the keyboard shortcut, see it in the decision log,
take screenshots (assets/screenshots/). On a copy of the sample pair whose names
include ``<img src=x onerror=alert(1)>`` and ``**bold**``, both must show literally: no image
element, no alert dialog, no bold text.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from apprun import REPO_ROOT, SAMPLE_PAIR, prepare_app_dir

from app.harness import CHROMIUM, launch_chromium, serve_app
from mimea_core import runs

# Screenshots go to an ignored folder; refresh the committed ones with
# MIMEA_SCREENSHOT_DIR=assets/screenshots .venv/bin/pytest tests/test_browser.py
SCREENSHOTS = Path(os.environ.get("MIMEA_SCREENSHOT_DIR") or REPO_ROOT / ".mimea" / "screenshots")
EVIL = "<img src=x onerror=alert(1)>"
BOLD = "**bold**"
WAIT = 60_000  # ms; generous: the machine may be busy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs /usr/bin/chromium (CI installs it)"
    ),
]


@pytest.fixture(scope="module")
def hostile_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the sample pair where two test-set KG1 entities have hostile names, and a run for it.

    The run is the session's small run on the sample pair, copied and pointed at the copy: the two
    pairs have the same entities, triples and split, and names are not a modality of that run.
    """
    import json

    from apprun import make_trained_run

    from mimea_core.data import load_pair, make_split

    root = tmp_path_factory.mktemp("browser")
    data = root / "hostile-pair"
    shutil.copytree(SAMPLE_PAIR, data)
    pair = load_pair(str(SAMPLE_PAIR))
    split = make_split(pair, seed_ratio=0.2, seed=0)  # the split of the run
    renamed = {pair.kg1.entities[int(split.test[0, 0])]: EVIL, pair.kg1.entities[int(split.test[1, 0])]: BOLD}
    names_file = data / "FB15K" / "FB15K_EntityNames.txt"
    lines = []
    for line in names_file.read_text(encoding="utf-8").splitlines():
        entity = line.split("\t", 1)[0]
        lines.append(f"{entity}\t{renamed[entity]}" if entity in renamed else line)
    names_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = root / "runs" / "hostile-run"
    shutil.copytree(make_trained_run(tmp_path_factory.getbasetemp() / "mimea-app-runs"), run)
    meta = json.loads((run / runs.MARKER).read_text())
    meta["dataset"] = str(data)
    (run / runs.MARKER).write_text(json.dumps(meta))
    return data, run


@pytest.fixture(scope="module")
def server(hostile_pair, tmp_path_factory):
    data, run = hostile_pair
    app_dir = prepare_app_dir(tmp_path_factory.mktemp("browser-app"), run)
    env = dict(os.environ, MIMEA_APP_DIR=str(app_dir), MIMEA_APP_DATA=str(data), PYTHONUNBUFFERED="1")
    with serve_app(env, app_dir / "server.log") as url:
        yield url, app_dir


NOTE_KEY_JS = (  # the pair under review: its note field's key is note_<source>_<target>
    "() => { const e = document.querySelector('[class*=\"st-key-note_\"]');"
    " return e ? [...e.classList].find(c => c.startsWith('st-key-note_')).slice('st-key-'.length) : null; }"
)


def settle(page) -> None:
    """Wait until the app's script run is over (Streamlit's status widget is gone)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT)
    page.wait_for_timeout(300)


def test_review_accept_log_and_inert_names(server):
    from playwright.sync_api import expect, sync_playwright

    from mimea_core.curation import DecisionStore

    url, app_dir = server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            outside: list[str] = []
            page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:", "about:")) else outside.append(r.url))
            # a deep link opens the real page, with the sidebar of Home.py (curator name)
            page.goto(url + "/candidates", wait_until="domcontentloaded")
            expect(page.get_by_label("Curator name", exact=True)).to_be_visible(timeout=2 * WAIT)
            expect(page.get_by_role("heading", name="Candidates").first).to_be_visible(timeout=2 * WAIT)
            expect(page.get_by_text("Page not found")).to_have_count(0)
            sidebar = page.get_by_test_id("stSidebarNav")
            assert sidebar.get_by_text("candidates", exact=True).count() == 0  # no raw file names
            page.goto(url + "/data", wait_until="domcontentloaded")
            expect(page.get_by_text("MIMEA workbench").first).to_be_visible(timeout=WAIT)
            expect(page.get_by_text("2,502").first).to_be_visible(timeout=WAIT)
            curator = page.get_by_label("Curator name", exact=True)
            curator.fill("browser-tester")
            curator.press("Enter")

            # the review queue
            page.get_by_role("link", name="Candidates").click()
            expect(page.get_by_role("button", name="Accept (a)").first).to_be_visible(timeout=2 * WAIT)
            expect(page.get_by_text("Why it is suggested").first).to_be_visible(timeout=WAIT)
            page.screenshot(path=str(SCREENSHOTS / "review-queue.png"), full_page=True)
            # leave and come back: the shortcuts must survive a page change
            page.get_by_role("link", name="Train").click()
            expect(page.get_by_text("Train a new model").first).to_be_visible(timeout=WAIT)
            page.get_by_role("link", name="Candidates").click()
            expect(page.get_by_role("button", name="Accept (a)").first).to_be_visible(timeout=WAIT)

            # hostile names are shown literally
            page.get_by_text("Filter and order").click()
            search = page.get_by_label("Search names", exact=True)
            search.fill("bold")
            search.press("Enter")
            expect(page.get_by_test_id("stText").filter(has_text=BOLD).first).to_be_visible(timeout=WAIT)
            search.fill("onerror")
            search.press("Enter")
            expect(page.get_by_test_id("stText").filter(has_text=EVIL).first).to_be_visible(timeout=WAIT)
            assert page.locator('img[src="x"]').count() == 0
            assert page.locator("strong", has_text="bold").count() == 0

            # typing "a" in the note must not press Accept; then accept with the shortcut
            page.wait_for_function(  # our shortcut listener is installed
                "() => window.__streamlitShortcutsListener && window.__streamlitShortcutsListener.__mimeaGuarded",
                timeout=WAIT,
            )
            settle(page)  # stale elements of the previous pair are gone once the page has finished
            note = page.get_by_label("Note (optional)", exact=True)
            expect(note).to_have_count(1, timeout=WAIT)  # on a loaded machine stale ones linger a while
            note.press_sequentially("a real match")
            note.press("Enter")
            expect(note).to_have_value("a real match", timeout=WAIT)
            assert page.get_by_text("Last recorded:").count() == 0
            page.get_by_role("heading", name="Candidates").click()  # focus out of the field
            page.keyboard.press("a")
            expect(page.get_by_text(f"Last recorded: accept: {EVIL}", exact=False).first).to_be_visible(
                timeout=WAIT
            )

            # the decision log shows it
            page.get_by_role("link", name="Decisions & export").click()
            expect(page.get_by_text("Decision log").first).to_be_visible(timeout=WAIT)
            log = page.locator('[data-testid="stDataFrame"]').first
            expect(log).to_contain_text("browser-tester", timeout=WAIT)
            expect(log).to_contain_text(EVIL)
            page.screenshot(path=str(SCREENSHOTS / "decision-log.png"), full_page=True)
            assert page.locator('img[src="x"]').count() == 0
        finally:
            browser.close()
    assert not dialogs, f"a script ran: {dialogs}"
    assert not outside, f"requests to outside hosts: {outside[:5]}"
    store = DecisionStore(next((app_dir / "decisions").glob("*.sqlite")))
    log = store.decisions()
    assert list(log["decision"]) == ["accept"] and list(log["curator"]) == ["browser-tester"]
    assert list(log["note"]) == ["a real match"]


def test_reject_key_records_each_reject_exactly_once(server):
    """Regression (issue 11, defect 1): `r` is also Streamlit's rerun key; one press once sent two
    script runs and recorded every reject twice. Each press must add exactly one row, on the pair
    that was shown when it was pressed."""
    from playwright.sync_api import expect, sync_playwright

    from mimea_core.curation import DecisionStore

    url, app_dir = server
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")
            curator = page.get_by_label("Curator name", exact=True)
            expect(curator).to_be_visible(timeout=WAIT)
            curator.fill("key-tester")
            curator.press("Enter")
            page.get_by_role("link", name="Candidates").click()
            expect(page.get_by_role("button", name="Reject (r)").first).to_be_visible(timeout=2 * WAIT)
            page.wait_for_function(
                "() => window.__streamlitShortcutsListener && window.__streamlitShortcutsListener.__mimeaGuarded",
                timeout=WAIT,
            )
            store = DecisionStore(next((app_dir / "decisions").glob("*.sqlite")))
            before = len(store.decisions())
            for presses in range(1, 4):
                settle(page)
                shown = page.evaluate(NOTE_KEY_JS)  # the decision form on screen
                assert shown, "no decision form shown"
                page.get_by_role("heading", name="Candidates").click()  # focus on the page, not a field
                page.keyboard.press("r")
                deadline = 30.0
                while len(store.decisions()) < before + presses and deadline > 0:
                    page.wait_for_timeout(200)
                    deadline -= 0.2
                # The next press is for the next pair: a press on a form still on screen after its
                # decision is (rightly) refused by the form's action token, so wait for the new form.
                page.wait_for_function(
                    f"b => {{ const k = ({NOTE_KEY_JS})(); return k && k !== b; }}", arg=shown, timeout=WAIT
                )  # fmt: skip
                settle(page)
                page.wait_for_timeout(1500)  # a duplicate came ~100 ms after the first row
                assert len(store.decisions()) == before + presses
        finally:
            browser.close()
    mine = store.decisions().iloc[before:]
    assert list(mine["decision"]) == ["reject"] * 3 and set(mine["curator"]) == {"key-tester"}
    assert len(set(zip(mine["source"], mine["target"], strict=True))) == 3


def test_a_page_waiting_for_the_default_model_fills_in_by_itself(tmp_path):
    """Regression (issue 11, defect 4): on a first start the Candidates page showed "running" until
    the user navigated again. With no run at all, the default training starts in the background and
    the page shows the training-free ranking; when the training ends, the page must swap the model's
    ranking in with no click, key or navigation."""
    from playwright.sync_api import expect, sync_playwright

    app_dir = tmp_path / "fresh-app"
    app_dir.mkdir()
    env = dict(os.environ, MIMEA_APP_DIR=str(app_dir), MIMEA_APP_DATA=str(SAMPLE_PAIR), PYTHONUNBUFFERED="1",
               MIMEA_APP_TRAIN_SECONDS="45")  # fmt: skip
    with serve_app(env, tmp_path / "server.log") as url, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/candidates", wait_until="domcontentloaded")
            expect(page.get_by_text("replaces it when its training ends").first).to_be_visible(timeout=2 * WAIT)
            assert not list(app_dir.glob("runs/*/metrics.json"))  # the model is still training
            # from here on nothing touches the page: it must refresh itself once the run is written
            expect(page.get_by_text("Showing the model's ranking").first).to_be_visible(timeout=3 * WAIT)
            assert list(app_dir.glob("runs/*/metrics.json"))
            expect(page.get_by_text("replaces it when its training ends")).to_have_count(0)
        finally:
            browser.close()
