"""AppTest of the active-learning curator mode, the curve on the Train page, and the seeded measurement."""

from __future__ import annotations

from apprun import SAMPLE_PAIR
from test_app import _wait, open_app, store_of

from app import state
from mimea_core.data import load_pair
from mimea_core.runs import load_run


def test_active_mode_relearns_after_a_batch_and_uses_the_new_model(app_dir):
    state.job_registry.clear()
    try:
        at = open_app("candidates")
        at.toggle(key="al_mode").set_value(True).run()
        assert not at.exception
        assert at.selectbox(key="q_order").value == "most informative first"
        at.number_input(key="al_batch").set_value(2).run()
        before = at.session_state[state.RUN_DIR] if state.RUN_DIR in at.session_state else None  # noqa: SIM401 (no .get)
        at.button(key="accept").click().run()
        at.button(key="reject").click().run()
        assert not at.exception
        job = state.training_job(load_pair(str(SAMPLE_PAIR)))
        assert job is not None and job.label.startswith("relearning with 2 labels (1 accepted)")
        _wait(job)
        assert job.snapshot().status == "done", job.snapshot().error
        at.run()
        assert not at.exception
        assert at.session_state[state.RUN_DIR] == job.snapshot().run_dir != before
        relearned = load_run(job.snapshot().run_dir)
        assert relearned.config.extra["active_labels"] == 2
        assert len(relearned.extra_seeds) == 1 and len(store_of(app_dir).accepted_pairs()) == 1
        assert any("0 of 2 new labels" in c.value for c in at.caption)
    finally:
        state.job_registry.clear()


def test_train_page_shows_the_simulated_curator_curve(app_dir):
    at = open_app("train")
    assert any(s.value.startswith("Active learning, measured") for s in at.subheader)


def test_decisions_page_measures_the_effect_over_seeds_and_says_if_it_is_noise(app_dir):
    at = open_app("candidates")
    for _ in range(3):
        at.button(key="accept").click().run()
    at.switch_page("views/decisions.py").run()
    at.select_slider(key="measure_seeds").set_value(2).run()
    at.number_input(key="measure_epochs").set_value(1).run()
    at.button(key="measure_change").click().run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["seed", "before", "after", "change"])
    assert table["seed"].tolist() == [0, 1]
    verdicts = [m.value for m in (*at.info, *at.success, *at.warning)]
    assert any("2 seeds" in v for v in verdicts), verdicts


def test_active_mode_orders_the_queue_by_the_simulated_curators_informative_strategy(tmp_path, tiny_pair):
    """One home for the strategy: the app's order is curation.active's "informative" (central sources first)."""
    import pandas as pd

    from app import active
    from mimea_core.curation import DecisionStore
    from mimea_core.curation.active import Structure

    degree = Structure.from_kg(tiny_pair.kg1).degree()
    hub, low = int(degree.argmax()), int(degree.argmin())
    queue = pd.DataFrame({"source": [low, hub], "target": [0, 1], "rank": 1, "score": [0.6, 0.5],
                          "margin": [0.1, 0.1], "mutual_nn": False, "informativeness": [1.0, 0.0],
                          "state": "undecided"})  # fmt: skip
    out = active.informative_queue(queue, tiny_pair, None, DecisionStore(tmp_path / "d.sqlite").current_state(),
                                 batch=2)
    assert out.sort_values("informativeness", ascending=False)["source"].tolist() == [hub, low]


def test_a_no_counterpart_answer_counts_as_a_label(tmp_path):
    from app import active
    from mimea_core.curation import DecisionStore

    store = DecisionStore(tmp_path / "d.sqlite")
    store.record(0, 1, "accept", "me")
    store.record(2, 3, "skip", "me")
    states = store.current_state()
    assert active.labels_given(states) == 1 and active.labels_given(states, no_match=2) == 3
    assert active.accepted_in_pair(states, _Pair(10, 10)).tolist() == [[0, 1]]
    assert active.accepted_in_pair(states, _Pair(10, 1)).tolist() == []  # target 1 is not in this KG2
    store.record(0, 1, "reject", "you")  # curators disagree: still one label, no longer a seed
    states = store.current_state()
    assert active.labels_given(states) == 1
    assert active.accepted_in_pair(states, _Pair(10, 10)).tolist() == []


class _Pair:
    """Just the entity counts of a pair, which is all accepted_in_pair reads."""

    def __init__(self, n1: int, n2: int) -> None:
        self.kg1 = type("KG", (), {"num_entities": n1})()
        self.kg2 = type("KG", (), {"num_entities": n2})()
