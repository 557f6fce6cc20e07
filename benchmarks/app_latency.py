"""App latency on the sample pair: page change after the first load, and an accept/reject.

Targets (DESIGN.md section 5): a page change after the first load < 1 s; an accept/reject < 200 ms.

Three measurements:

1. **AppTest page changes** (server side, in process): the app is opened and every page visited
   once (first load: dataset, model, embeddings, candidates, accuracy tables and the UMAP map are
   computed and cached); then each page is switched to ``--rounds`` more times and each switch
   (the whole script run of the page) is timed.
2. **Accept/reject**: on the Candidates page, one click = record the decision in SQLite, rerun the
   page with the next pair. Also ``DecisionStore.record`` alone.
3. **Browser page changes** (when ``/usr/bin/chromium`` exists and ``--no-browser`` is not given):
   ``streamlit run`` on 127.0.0.1 driven by Playwright; time from clicking a page in the sidebar
   until a text only that page shows (near its end) is on screen; and from pressing "a" on the
   review page until the queue counts the pair as decided, and until the page has finished updating.
   Conditions are polled on every animation frame.

    .venv/bin/python benchmarks/app_latency.py                 # trains a small run first (~30 s)
    .venv/bin/python benchmarks/app_latency.py --rounds 5 --no-browser

Writes ``benchmarks/results/app_latency.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from mimea_core.benchmarking.records import environment_line, environment_stamp  # noqa: E402 (after the path line)

RESULTS = REPO_ROOT / "benchmarks" / "results"
SAMPLE = REPO_ROOT / "sample_data" / "fb15k-db15k-small"
PAGES = {  # page script -> (sidebar title, a text only that page shows once loaded)
    "data": ("Home / Data", "Modality coverage"),
    "train": ("Train", "Train a new model"),
    "candidates": ("Candidates", "Why it is suggested"),
    "modalities": ("Modality weights", "Distribution over entities"),
    "transport": ("Transport plan", "Plan's top column"),
    "embedding_map": ("Embedding map", "Decided pairs and test links"),
    "decisions": ("Decisions & export", "Export accepted pairs"),
}


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_s": round(statistics.median(values), 4),
        "mean_s": round(statistics.fmean(values), 4),
        "max_s": round(max(values), 4),
    }


def make_run(app_dir: Path, epochs: int) -> Path:
    import torch

    from app.state import quick_config
    from mimea_core import runs
    from mimea_core.data import load_pair
    from mimea_core.training import train

    run = app_dir / "runs" / "latency-run"
    if runs.is_finished(run):
        return run
    torch.set_num_threads(2)
    pair = load_pair(str(SAMPLE))
    train(pair, quick_config(pair).replace(epochs=epochs, time_budget=None), out_dir=run)
    return run


def apptest_latency(rounds: int) -> dict:
    from streamlit.testing.v1 import AppTest

    from mimea_core.curation import DecisionStore

    at = AppTest.from_file(str(REPO_ROOT / "app" / "Home.py"), default_timeout=600)
    at.session_state["curator"] = "benchmark"
    at.session_state["map_points"] = 1000
    t0 = time.perf_counter()
    at.run()
    first: dict[str, float] = {"data": time.perf_counter() - t0}
    for page in PAGES:
        if page == "data":
            continue
        t = time.perf_counter()
        at.switch_page(f"views/{page}.py").run()
        first[page] = time.perf_counter() - t
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception}")
    switches: dict[str, list[float]] = {page: [] for page in PAGES}
    for _ in range(rounds):
        for page in PAGES:
            t = time.perf_counter()
            at.switch_page(f"views/{page}.py").run()
            switches[page].append(time.perf_counter() - t)
    # accept / reject on the review page
    at.switch_page("views/candidates.py").run()
    clicks = []
    for i in range(2 * rounds):
        key = "accept" if i % 2 == 0 else "reject"
        t = time.perf_counter()
        at.button(key=key).click().run()
        clicks.append(time.perf_counter() - t)
        if at.exception:
            raise RuntimeError(f"{key}: {at.exception}")
    store_path = next((Path(os.environ["MIMEA_APP_DIR"]) / "decisions").glob("*.sqlite"))
    store = DecisionStore(store_path)
    records = []
    for i in range(50):
        t = time.perf_counter()
        store.record(i, i, "skip", "benchmark-direct")
        records.append(time.perf_counter() - t)
    every_switch = [v for values in switches.values() for v in values]
    return {
        "first_load_s": {k: round(v, 3) for k, v in first.items()},
        "page_change": summary(every_switch),
        "page_change_by_page": {k: summary(v) for k, v in switches.items()},
        "accept_reject_click": summary(clicks),
        "store_record": summary(records),
    }


def browser_latency(rounds: int) -> dict:
    from playwright.sync_api import expect, sync_playwright

    from app.harness import launch_chromium, serve_app

    with serve_app(None, Path(os.environ["MIMEA_APP_DIR"]) / "server.log") as url:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")
            expect(page.get_by_text(PAGES["data"][1])).to_be_visible(timeout=120_000)
            curator = page.get_by_label("Curator name", exact=True)
            curator.fill("benchmark-browser")
            curator.press("Enter")

            def visit(name: str) -> float:
                title, marker = PAGES[name]
                t = time.perf_counter()
                page.get_by_role("link", name=title, exact=True).click()
                # polled on every animation frame (expect() backs off to 1 s between checks)
                page.wait_for_function("m => document.body.innerText.includes(m)", arg=marker, timeout=300_000)
                return time.perf_counter() - t

            first = {}
            for name in PAGES:
                first[name] = round(visit(name), 3)
                print(f"browser first visit {name}: {first[name]} s", flush=True)
            by_page: dict[str, list[float]] = {name: [] for name in PAGES}
            for _ in range(rounds):
                for name in PAGES:
                    by_page[name].append(visit(name))
            visit("candidates")
            undecided_js = (
                "() => { const m = document.body.innerText.match(/([\\d,]+) undecided\\./);"
                " return m ? parseInt(m[1].replace(/,/g, '')) : null; }"
            )
            idle_js = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
            shortcuts_ready = "() => window.__streamlitShortcutsListener && window.__streamlitShortcutsListener.__mimeaGuarded === true"
            page.wait_for_function(shortcuts_ready, timeout=30_000)
            shown, done = [], []
            for _ in range(2 * rounds):
                page.get_by_role("heading", name="Candidates").click()  # focus out of any field
                page.wait_for_function(idle_js, timeout=60_000)
                time.sleep(0.5)  # a curator reads the pair before deciding
                before = page.evaluate(undecided_js)
                t = time.perf_counter()
                page.keyboard.press("a")
                page.wait_for_function(f"() => ({undecided_js})() === {before - 1}", timeout=30_000)
                shown.append(time.perf_counter() - t)
                page.wait_for_function(idle_js, timeout=60_000)
                done.append(time.perf_counter() - t)
            browser.close()
        switches = [v for values in by_page.values() for v in values]
        return {
            "first_visit_s": first,
            "page_change": summary(switches),
            "page_change_by_page": {k: summary(v) for k, v in by_page.items()},
            "accept_key_decision_shown": summary(shown),
            "accept_key_page_done": summary(done),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="page-change rounds after the first load")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the run trained for the benchmark")
    parser.add_argument(
        "--app-dir", type=Path, default=None, help="app directory (default: a fresh temp one)"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the real-browser measurement")
    parser.add_argument("--name", default="app_latency")
    args = parser.parse_args(argv)
    command = " ".join(
        shlex.quote(a) for a in [".venv/bin/python", "benchmarks/app_latency.py", *sys.argv[1:]]
    )
    print(f"$ {command}", flush=True)

    app_dir = args.app_dir or Path(tempfile.mkdtemp(prefix="mimea-latency-"))
    os.environ["MIMEA_APP_DIR"] = str(app_dir)
    os.environ["MIMEA_APP_DATA"] = str(SAMPLE)
    t = time.perf_counter()
    run = make_run(app_dir, args.epochs)
    print(f"run: {run} ({time.perf_counter() - t:.1f} s)", flush=True)

    record: dict = {
        "benchmark": "app_latency",
        "command": command,
        "dataset": str(SAMPLE.relative_to(REPO_ROOT)),
        "run": run.name,
        "rounds": args.rounds,
        "targets": {"page_change_s": 1.0, "accept_reject_s": 0.2},
        "env": environment_stamp(REPO_ROOT),
    }
    from app.harness import CHROMIUM

    record["apptest"] = apptest_latency(args.rounds)
    print(f"AppTest: {json.dumps(record['apptest'])}", flush=True)
    if not args.no_browser and CHROMIUM.exists():
        # the browser session uses its own fresh decision store (and shares the trained run)
        record["browser"] = browser_latency(args.rounds)
    at = record["apptest"]
    lines = [
        "# App latency (sample pair fb15k-db15k-small)",
        "",
        f"Command: `{command}`  ",
        environment_line(record["env"]),
        "",
        "| measurement | median | max | target |",
        "|---|---|---|---|",
        f"| page change, AppTest (server script run), n={at['page_change']['n']} | {at['page_change']['median_s']:.3f} s | {at['page_change']['max_s']:.3f} s | < 1 s |",
        f"| accept/reject click incl. page rerun, AppTest, n={at['accept_reject_click']['n']} | {at['accept_reject_click']['median_s'] * 1000:.0f} ms | {at['accept_reject_click']['max_s'] * 1000:.0f} ms | < 200 ms |",
        f"| DecisionStore.record alone, n={at['store_record']['n']} | {at['store_record']['median_s'] * 1000:.1f} ms | {at['store_record']['max_s'] * 1000:.1f} ms | |",
    ]  # fmt: skip
    if "browser" in record:
        br = record["browser"]
        lines += [
            f"| page change, real browser (click → page text visible), n={br['page_change']['n']} | {br['page_change']['median_s']:.3f} s | {br['page_change']['max_s']:.3f} s | < 1 s |",
            f"| accept via key 'a', real browser, until the queue shows it decided, n={br['accept_key_decision_shown']['n']} | {br['accept_key_decision_shown']['median_s'] * 1000:.0f} ms | {br['accept_key_decision_shown']['max_s'] * 1000:.0f} ms | < 200 ms |",
            f"| accept via key 'a', real browser, until the page has finished updating, n={br['accept_key_page_done']['n']} | {br['accept_key_page_done']['median_s'] * 1000:.0f} ms | {br['accept_key_page_done']['max_s'] * 1000:.0f} ms | |",
        ]  # fmt: skip
    lines += ["", "First load (s, AppTest): " + ", ".join(f"{k} {v}" for k, v in at["first_load_s"].items())]
    lines += ["", "Per page (AppTest median s): " + ", ".join(
        f"{k} {v['median_s']}" for k, v in at["page_change_by_page"].items())]  # fmt: skip
    if "browser" in record:
        lines += ["", "Per page (browser median s): " + ", ".join(
            f"{k} {v['median_s']}" for k, v in record["browser"]["page_change_by_page"].items())]  # fmt: skip
    lines += ["", f"Load average at the start: {record['env']['machine']['load_average']} (the machine's 2 cores are shared)."]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {RESULTS / (args.name + '.json')} and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
