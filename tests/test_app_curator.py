"""AppTest regressions of issue 11: order changes, the first screen without a model, one-to-one
warnings, the sidebar's dataset, and where the page scripts live."""

from __future__ import annotations

from apprun import REPO_ROOT, SAMPLE_PAIR, open_app

from app import state


def test_page_scripts_are_not_in_a_legacy_pages_folder_and_nothing_is_fetched_outside():
    assert not (REPO_ROOT / "app" / "pages").exists()  # Streamlit would list its raw files
    sources = "\n".join(p.read_text() for p in (REPO_ROOT / "app").rglob("*.py"))
    for banned in ("import streamlit.components", "components.v1.html(", "from streamlit_shortcuts", "components.html("):
        assert banned not in sources, banned
    home = (REPO_ROOT / "app" / "Home.py").read_text()
    assert 'page_icon=str(Path(__file__).parent / "favicon.png")' in home
    assert (REPO_ROOT / "app" / "favicon.png").is_file()


def test_changing_the_order_goes_to_the_top_of_the_new_order(app_dir):
    at = open_app("candidates")
    for _ in range(3):  # move down the default order
        at.button(key="accept").click().run()
    before = at.session_state[state.REVIEW_PAIR]
    at.selectbox(key="q_order").set_value("most informative first").run()
    assert not at.exception
    table = at.dataframe[0].value
    top = (int(at.session_state[state.REVIEW_PAIR][0]), int(at.session_state[state.REVIEW_PAIR][1]))
    assert top != tuple(before) or len(table) == 1
    assert at.session_state[state.REVIEW_PAIR] == top
    assert table.iloc[0]["source_name"] in " ".join(t.value for t in at.text)  # the new order's first pair


def test_sidebar_names_the_dataset_just_loaded(app_dir):
    at = open_app()
    assert any("fb15k-db15k-small" in c.value for c in at.sidebar.caption)
    try:
        at.selectbox(key="bundled_pair").set_value("fb15k-yago15k-small").run()  # starts its default training
        assert not at.exception
        captions = [c.value for c in at.sidebar.caption]
        assert any("Dataset: fb15k-yago15k-small" in c for c in captions), captions
    finally:
        state.job_registry().stop_all()


def test_first_screen_without_a_model_shows_a_training_free_ranking(tmp_path, monkeypatch):
    """A fresh app folder: suggestions at once (names and values), with a note saying so."""
    monkeypatch.setenv("MIMEA_APP_DIR", str(tmp_path / "fresh-app"))
    state.job_registry.clear()
    try:
        at = open_app("candidates")
        notes = " ".join(i.value for i in at.info)
        assert "first ranking from names and attribute values" in notes
        table = at.dataframe[0].value
        assert len(table) == 300 and table["confidence"].is_monotonic_decreasing  # the first 300 shown
        from mimea_core.data import load_pair

        pair = load_pair(str(SAMPLE_PAIR))
        gold = {int(s): int(t) for s, t in pair.links}
        names1 = {n: i for i, n in enumerate(pair.kg1.names)}
        names2 = {n: i for i, n in enumerate(pair.kg2.names)}
        right = sum(gold.get(names1[s]) == names2[t] for s, t in zip(table["source_name"][:20], table["target_name"][:20], strict=True))
        assert right >= 18, right
        job = state.training_job(pair)
        assert job is not None and job.running  # the default model trains meanwhile
        at.button(key="accept").click().run()  # decisions work on the first ranking too
        assert not at.exception
        job.cancel()
        job.wait(120)
    finally:
        state.job_registry.clear()


def pair_names_of(frame, column: str) -> list[str]:
    return [str(v) for v in frame[column]]


def test_accepting_a_taken_target_warns_and_flags_a_conflict(app_dir):
    from app import review

    at = open_app("candidates")
    s0, t0 = at.session_state[state.REVIEW_PAIR]
    at.button(key="accept").click().run()
    run_dir = str(next((app_dir / "runs").iterdir()))
    cands = review.model_candidates(run_dir, state.default_choice())
    other = cands[(cands["target"] == t0) & (cands["source"] != s0)]
    assert len(other), "no other source has the accepted target among its candidates"
    s1 = int(other.iloc[0]["source"])
    at.toggle(key="q_all_ranks").set_value(True).run()
    at.multiselect(key="q_states").set_value(["retired"]).run()
    retired = at.dataframe[0].value
    assert len(retired) >= 9  # the accepted source's other candidates, and its target's
    assert pair_names_of(retired, "source_name").count(retired["source_name"].iloc[0]) >= 1
    at.multiselect(key="q_states").set_value(["undecided", "retired"]).run()
    at.session_state[state.REVIEW_PAIR] = (s1, int(t0))
    at.run()
    assert at.session_state[state.REVIEW_PAIR] == (s1, int(t0))
    at.button(key="accept").click().run()
    assert not at.exception
    assert any("One-to-one conflict" in w.value.replace("\\", "") for w in at.warning)
    at.switch_page("views/decisions.py").run()
    assert not at.exception
    assert any("One-to-one conflicts (2)" in h.value for h in at.subheader)


def test_no_counterpart_retires_the_source(app_dir):
    at = open_app("candidates")
    first = at.session_state[state.REVIEW_PAIR]
    at.button(key="no_match").click().run()
    assert not at.exception
    assert at.session_state[state.REVIEW_PAIR][0] != first[0]
    at.switch_page("views/decisions.py").run()
    assert any("No counterpart" in h.value for h in at.subheader)
