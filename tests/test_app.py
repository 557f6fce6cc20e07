"""AppTest (streamlit.testing.v1) of every page on the sample pair, with a small trained run."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
import rdflib
from apprun import SAMPLE_PAIR, open_app
from sssom.parsers import parse_sssom_table
from sssom.validators import validate
from streamlit.testing.v1 import AppTest

from app import state
from mimea_core import runs
from mimea_core.curation import DecisionStore
from mimea_core.data import load_pair


def store_of(app_dir) -> DecisionStore:
    files = list((app_dir / "decisions").glob("*.sqlite"))
    assert len(files) == 1, files
    return DecisionStore(files[0])


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_data_page_shows_counts_coverage_and_links(app_dir):
    at = open_app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Gold links"] == "2,502"
    assert metrics["KG1 entities"] == "2,650"
    counts = at.dataframe[0].value
    assert list(counts["KG"]) == ["FB15K", "DB15K"]
    assert (counts["triples"] > 1000).all()
    assert at.success  # the trained run was found


def test_data_page_reports_bad_input_and_keeps_working(app_dir, tmp_path):
    bad = tmp_path / "bad-pair"
    (bad / "kg1").mkdir(parents=True)
    (bad / "kg2").mkdir()
    (bad / "links.tsv").write_text("a\tb\n")
    (bad / "kg1" / "triples.tsv").write_text("a\tr\n")  # two columns: bad
    (bad / "kg2" / "triples.tsv").write_text("b\tr\tc\n")
    at = open_app()
    at.radio(key="data_source").set_value("Local folder or pair file").run()
    at.text_input(key="local_path").input(str(bad))
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    message = " ".join(e.value for e in at.error).replace("\\", "")  # messages are markdown-escaped
    assert "triples.tsv" in message and "columns" in message
    # other pages say so instead of crashing, and going back to the sample works
    at.switch_page("views/candidates.py").run()
    assert not at.exception and at.error
    at.switch_page("views/data.py").run()
    at.radio(key="data_source").set_value("Bundled sample").run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Gold links"] == "2,502"


def test_uploads_load_through_the_readers_and_refuse_pickles(app_dir):
    at = open_app()
    at.radio(key="data_source").set_value("Upload files").run()
    at.file_uploader(key="up_links").upload("links.tsv", b"x1\ty1\nx2\ty2\n", "text/tab-separated-values")
    at.file_uploader(key="up_kg1").upload("triples.tsv", b"x1\tr\tx2\n", "text/tab-separated-values")
    at.file_uploader(key="up_kg1").upload("names.tsv", b"x1\t**bold**\n", "text/tab-separated-values")
    at.file_uploader(key="up_kg2").upload("triples.tsv", b"y1\tr\ty2\n", "text/tab-separated-values")
    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    at.file_uploader(key="up_kg2").upload("visual.npy", buf.getvalue(), "application/octet-stream")
    at.button[0].click().run()
    assert not at.exception
    assert any("pickles are refused" in e.value for e in at.error)


def test_train_page_runs_in_background_and_cancels(app_dir):
    at = open_app("train")
    assert any("test-run" in t for t in texts(at))  # the model in use
    table = at.dataframe[0].value
    assert list(table["protocol"]) == ["standard", "open", "one_to_one"]
    at.number_input(key="t_epochs").set_value(200)
    at.select_slider(key="t_dim").set_value(32)
    at.button[-1].click().run()  # Start training (form submit)
    assert not at.exception
    pair = load_pair(str(SAMPLE_PAIR))
    job = state.training_job(pair)
    try:
        assert job is not None and job.running
        deadline = time.time() + 60
        while job.snapshot().epoch < 1 and time.time() < deadline:
            time.sleep(0.2)
        at.run()  # the page is usable while training: a rerun returns at once with the progress
        assert not at.exception
        assert any("epoch" in (p.proto.text or "") for p in at.get("progress"))
        at.button(key="cancel_training").click().run()
        job.wait(60)
        snap = job.snapshot()
        assert snap.status == "cancelled" and snap.epoch < 200
        assert snap.run_dir and Path(snap.run_dir).parent == (app_dir / "runs").resolve()
    finally:
        if job is not None:
            job.cancel()
            job.wait(60)
        state.job_registry.clear()


def test_review_flow_records_decisions_and_advances(app_dir):
    at = open_app("candidates")
    first = at.session_state[state.REVIEW_PAIR]
    at.text_input(key=f"note_{first[0]}_{first[1]}").input("same entity")
    at.button(key="accept").click().run()
    assert not at.exception
    second = at.session_state[state.REVIEW_PAIR]
    assert second != first
    at.button(key="reject").click().run()
    assert not at.exception
    log = store_of(app_dir).decisions()
    assert list(log["decision"]) == ["accept", "reject"]
    assert set(log["curator"]) == {"tester"}
    assert (int(log.loc[0, "source"]), int(log.loc[0, "target"])) == tuple(first)
    assert log.loc[0, "note"] == "same entity"
    assert (int(log.loc[1, "source"]), int(log.loc[1, "target"])) == tuple(second)
    # the decided pairs leave the (default: undecided) queue
    shown = at.dataframe[0].value
    assert "accept" not in set(shown["state"])
    # every candidate of each source, not only the top one (the table shows the 300 best-scored
    # rows, which a confident model fills with top ranks: count the queue in the caption instead)
    def queue_size() -> int:
        caption = next(c.value for c in at.caption if "suggested pairs shown" in c.value)
        return int(re.search(r"of ([\d,]+) suggested", caption).group(1).replace(",", ""))

    top_only = queue_size()
    at.toggle(key="q_all_ranks").set_value(True).run()
    assert not at.exception
    assert queue_size() > top_only


def test_review_needs_a_curator_name(app_dir):
    at = open_app("candidates", curator=None)
    at.button(key="accept").click().run()
    assert not at.exception
    assert any("curator" in e.value for e in at.error)
    assert not (app_dir / "decisions").exists() or store_of(app_dir).decisions().empty


def test_modality_page_and_what_if(app_dir):
    at = open_app("modalities")
    accuracy = at.dataframe[1].value
    assert "joint" in set(accuracy["space"]) and accuracy["hits@1"].between(0, 1).all()
    at.selectbox(key="wi_mode").set_value("mask").run()
    at.button(key="wi_run").click().run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    ranking = frames[-1]
    assert {"top-1 before", "top-1 after", "old top-1 rank after"} <= set(ranking.columns)
    whatif = next(f for f in frames if "weight_before" in getattr(f, "columns", []))
    masked = whatif[whatif["modality"] == at.selectbox(key="wi_modality").value]
    assert (masked["weight_after"] == 0).all() and (masked["weight_before"] > 0).all()


def test_transport_plan_page(app_dir):
    at = open_app("transport")
    at.slider(key="ot_size").set_value(50).run()
    assert not at.exception
    fig = at.get("plotly_chart")[0].proto.spec
    assert '"type":"heatmap"' in fig.replace(" ", "")
    assert '"name":"gold"' in fig.replace(" ", "")


def test_embedding_map_page_runs_umap(app_dir):
    """The one UMAP test (numba compiles for ~10-40 s in a fresh process)."""
    pair = load_pair(str(SAMPLE_PAIR))
    at = open_app("candidates")
    at.button(key="accept").click().run()
    at.session_state["map_points"] = 200  # set before the page first draws (and computes) the map
    at.switch_page("views/embedding_map.py").run(timeout=240)
    assert not at.exception
    spec = at.get("plotly_chart")[0].proto.spec
    assert "accept pairs" in spec and "KG1" in spec and "KG2" in spec
    accepted = store_of(app_dir).accepted_pairs()
    assert len(accepted) == 1 and pair.kg1.names[int(accepted[0, 0])].split()[0] in spec


@pytest.fixture
def captured_media(monkeypatch):
    """The files the app hands to download buttons (AppTest keeps them in a throwaway storage)."""
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    storages: list[MemoryMediaFileStorage] = []

    class Capturing(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            storages.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Capturing)

    def content(url: str) -> bytes:
        name = url.rsplit("/", 1)[-1]
        return storages[-1].get_file(name).content

    return content


def test_decisions_page_log_undo_conflicts_and_exports(app_dir, captured_media, tmp_path):
    at = open_app("candidates")
    for _ in range(3):
        at.button(key="accept").click().run()
    store = store_of(app_dir)
    accepted = store.accepted_pairs()
    assert len(accepted) == 3
    s, t = (int(x) for x in accepted[0])
    store.record(s, t, "reject", "someone else")  # a conflict: left out of exports
    store.record(99_999, 99_999, "accept", "ghost")  # ids this pair does not have: shown, not exported
    at.switch_page("views/decisions.py").run()
    assert not at.exception
    log, conflicts = (d.value for d in at.dataframe[:2])
    assert len(log) == 5 and set(log["curator"]) == {"tester", "someone else", "ghost"}
    assert "(unknown entity #99999)" in set(log["source_name"])
    assert len(conflicts) == 1 and "someone else: reject" in conflicts["positions"].iloc[0]
    downloads = {b.proto.label: b.proto.url for b in at.get("download_button")}
    sssom_file = tmp_path / "export.sssom.tsv"
    sssom_file.write_bytes(captured_media(downloads["SSSOM TSV"]))
    msdf = parse_sssom_table(sssom_file)
    validate(msdf)
    assert len(msdf.df) == 2
    graph = rdflib.Graph().parse(data=captured_media(downloads["owl:sameAs N-Triples"]).decode(), format="nt")
    assert len(graph) == 2 and all(p == rdflib.OWL.sameAs for _, p, _ in graph)
    # undo my latest decision on the first accepted pair
    at.selectbox(key="undo_pair").set_value((int(accepted[1, 0]), int(accepted[1, 1])))
    at.button(key="undo").click().run()
    assert not at.exception
    assert len(store.accepted_pairs()) == 2  # one of tester's, and the ghost's
    assert len(store.decisions()) == 6  # undo appended a row


def _wait(job, seconds: float = 120) -> None:
    job.wait(seconds)
    assert not job.running, "the training job did not finish in time"


def test_first_start_without_a_run_trains_the_default_model(tmp_path, monkeypatch):
    """No run at all: opening a page starts the quick default training in the background."""
    monkeypatch.setenv("MIMEA_APP_DIR", str(tmp_path / "empty-app"))
    state.job_registry.clear()
    try:
        at = open_app("candidates")
        assert any("default model" in i.value for i in at.info)
        job = state.training_job(load_pair(str(SAMPLE_PAIR)))
        assert job is not None and job.running
        job.cancel()  # keep the test short: the best model so far is saved
        _wait(job)
        assert job.snapshot().status == "cancelled" and job.snapshot().run_dir
        at.run()
        assert not at.exception
        assert at.button(key="accept")  # the review queue is there now
    finally:
        state.job_registry.clear()


def test_retrain_with_accepted_pairs_shows_the_metric_change(app_dir):
    at = open_app("candidates")
    for _ in range(2):
        at.button(key="accept").click().run()
    at.switch_page("views/decisions.py").run()
    state.job_registry.clear()
    try:
        at.button(key="retrain").click().run()
        assert not at.exception
        job = state.training_job(load_pair(str(SAMPLE_PAIR)))
        assert job is not None
        _wait(job)
        assert job.snapshot().status == "done", job.snapshot().error
        at.run()
        assert not at.exception
        change = at.dataframe[-1].value
        assert list(change.columns) == ["protocol", "metric", "before", "after", "change"]
        assert np.allclose(change["after"] - change["before"], change["change"], atol=1e-3)
        assert any("not touched by accepted pairs" in t for t in texts(at))
        from mimea_core.runs import load_run

        retrained = load_run(job.snapshot().run_dir)
        assert len(retrained.extra_seeds) == 2
    finally:
        state.job_registry.clear()


def _queue_table_key(at: AppTest) -> str:
    key = at.dataframe[0].key
    assert key and key.startswith("queue_table_"), key
    return key


def test_selected_row_is_remembered_by_pair_not_position(app_dir):
    """Regression (issue 11, defect 2): selecting a row, then narrowing the table by a search, must
    neither raise (the old code indexed the new, shorter table with the old row number) nor make
    whatever pair now sits at that position the pair under review."""
    pair = load_pair(str(SAMPLE_PAIR))
    at = open_app("candidates")
    shown = at.dataframe[0].value
    row = 5
    at.session_state[_queue_table_key(at)] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert not at.exception
    review = tuple(at.session_state[state.REVIEW_PAIR])
    assert pair.kg1.names[review[0]] == shown["source_name"].iloc[row]
    assert pair.kg2.names[review[1]] == shown["target_name"].iloc[row]
    # a search that keeps the first row's pair: the review follows the filter, not "row 5"
    at.text_input(key="q_search").input(shown["source_name"].iloc[0]).run()
    assert not at.exception
    now = at.dataframe[0].value
    assert len(now) <= row  # the old code raised IndexError here
    after = tuple(at.session_state[state.REVIEW_PAIR])
    assert after != review
    assert pair.kg1.names[after[0]] in set(now["source_name"])
    # selecting in the new table, then clearing the search: the selected pair stays under review
    at.session_state[_queue_table_key(at)] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    chosen = tuple(at.session_state[state.REVIEW_PAIR])
    assert pair.kg1.names[chosen[0]] == now["source_name"].iloc[0]
    at.text_input(key="q_search").input("").run()
    assert not at.exception
    assert tuple(at.session_state[state.REVIEW_PAIR]) == chosen


def test_the_shared_run_loads(trained_run):
    from mimea_core.runs import load_run

    run = load_run(trained_run)
    assert run.metrics.standard["hits@1"] >= 0
    assert Path(run.dataset).resolve() == SAMPLE_PAIR.resolve()
    assert (trained_run / runs.WEIGHTS).is_file()
