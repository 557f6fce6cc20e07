"""Each ablation switch really changes the computation (one forward pass or one step each)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.commands.train import build_config_parser_for_tests, config_from_args
from mimea_core.model import MIMEAModel, available_modalities, build_inputs, build_vocab
from mimea_core.training import train
from mimea_core.training.objective import batch_losses

PAIR = make_tiny_pair(n=40, visual="full")
VOCAB = build_vocab(PAIR, 100, 100)
INPUTS = build_inputs(PAIR, VOCAB)
BATCH = torch.as_tensor(PAIR.links[:16] + [0, PAIR.kg1.num_entities])


def _step(config):
    """Losses of one forward pass, and the joint embeddings after one optimizer step."""
    torch.manual_seed(0)
    model = MIMEAModel(config, VOCAB, available_modalities(config, VOCAB))
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(1)
    losses = batch_losses(model, INPUTS, BATCH, config, gen)
    torch.stack(list(losses.values())).sum().backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        return model, {k: float(v) for k, v in losses.items()}, model(INPUTS)


BASE = FAST.replace(entity_dropout=0.0, cross_modal=True)  # every term and module on


def test_base_uses_every_term():
    _, losses, _ = _step(BASE)
    assert set(losses) == {"joint", "modal", "ot", "kl"}


@pytest.mark.parametrize(
    ("change", "missing_term"),
    [
        ({"use_ot": False}, "ot"),
        ({"ot_target": "cross_kg"}, "mean_align"),
        ({"cross_modal": False}, "mean_align"),
        ({"modal_weighting": "pair"}, "mean_align"),
        ({"modal_contrastive": False}, "modal"),
        ({"fusion": "uniform"}, "kl"),
        ({"fusion": "attention"}, "kl"),
    ],  # fmt: skip
)
def test_switch_changes_terms_and_result(change, missing_term):
    _, base_losses, base_out = _step(BASE)
    model, losses, out = _step(BASE.replace(**change))
    assert missing_term not in losses
    assert not torch.allclose(out.joint, base_out.joint, atol=1e-6)


def test_fusion_kinds_give_different_weights():
    weights = {f: _step(BASE.replace(fusion=f))[2].weights for f in ("beta", "uniform", "attention")}
    present = INPUTS.present
    uniform = torch.stack([present[m] for m in BASE.modalities], 1).float()
    assert torch.allclose(weights["uniform"], uniform / uniform.sum(1, keepdim=True))
    assert not torch.allclose(weights["beta"], weights["uniform"])
    assert not torch.allclose(weights["attention"], weights["beta"])


@pytest.mark.parametrize("drop", ["relation", "attribute", "visual", "graph"])
def test_modality_subsets(drop):
    mods = tuple(m for m in ("graph", "relation", "attribute", "visual") if m != drop)
    model, _, out = _step(BASE.replace(modalities=mods))
    assert model.modalities == list(mods)
    assert drop not in model.encoders
    assert out.joint.shape[1] == BASE.dim * len(mods)


def test_pseudo_seeding_adds_pairs_and_changes_training():
    split = tiny_split(PAIR, train=0.5, valid=0.0)  # no model selection: compare the last states
    cfg = BASE.replace(epochs=4, pseudo_start=2, pseudo_every=1, pseudo_threshold=0.0)
    on = train(PAIR, cfg.replace(pseudo_seeding=True), split=split)
    off = train(PAIR, cfg.replace(pseudo_seeding=False), split=split)
    assert len(on.pseudo_seeds) > 0 and len(off.pseudo_seeds) == 0
    assert [h["pseudo_seeds"] for h in on.history][2] > 0
    # pseudo-seeds never reuse an entity of the training seeds
    assert not set(on.pseudo_seeds[:, 0]) & set(split.train[:, 0])
    assert not np.allclose(on.embeddings.joint[0], off.embeddings.joint[0])


def test_each_mining_logs_its_precision_on_the_validation_links_it_covers():
    """Logged only (issue 13: a round's precision on validation, never on test): training is unchanged."""
    from mimea_core.training.bootstrap import valid_precision

    split = tiny_split(PAIR, train=0.3, valid=0.3)
    cfg = BASE.replace(epochs=4, pseudo_start=2, pseudo_every=1, pseudo_threshold=0.0, eval_every=1)
    result = train(PAIR, cfg, split=split)
    rows = {h["epoch"]: h["pseudo_valid_precision"] for h in result.history}
    assert rows[1] is None  # before the first mining
    mined = [p for e, p in rows.items() if e >= 2]
    assert all(p is not None and 0.0 <= p <= 1.0 for p in mined)
    # the last mining's figure is that of the pseudo-seeds the run ends with
    assert mined[-1] == valid_precision(result.pseudo_seeds, split.valid)[1]


def test_cli_flags_map_to_config_fields():
    parser = build_config_parser_for_tests()
    args = parser.parse_args(
        ["data", "--out", "r", "--no-ot", "--no-cross-modal", "--fusion", "attention", "--no-modal-contrastive",
         "--modalities", "graph,relation", "--pseudo-seeding", "--epochs", "7", "--seed", "3",
         "--time-budget", "30", "--device", "cpu", "--set", "entity_dropout=0.5"]
    )  # fmt: skip
    cfg = config_from_args(args)
    assert (cfg.use_ot, cfg.fusion, cfg.modal_contrastive, cfg.modalities) == (
        False, "attention", False, ("graph", "relation"),
    )  # fmt: skip
    assert (cfg.pseudo_seeding, cfg.epochs, cfg.seed, cfg.time_budget, cfg.device, cfg.entity_dropout) == (
        True, 7, 3, 30.0, "cpu", 0.5,
    )  # fmt: skip
    defaults = config_from_args(parser.parse_args(["data", "--out", "r"]))
    assert not cfg.cross_modal
    assert defaults.use_ot and defaults.fusion == "beta" and defaults.modal_contrastive
    assert not defaults.cross_modal  # off by default (it lowered H@1 on the development split)


def test_train_help_documents_every_switch():
    proc = subprocess.run(
        [sys.executable, "-m", "mimea_core", "train", "--help"], capture_output=True, text=True, check=True
    )
    for flag in ("--no-ot", "--no-cross-modal", "--fusion", "--no-modal-contrastive", "--modalities", "--pseudo-seeding",
                 "--no-pseudo-seeding", "--device", "--epochs", "--seed", "--split-seed", "--time-budget",
                 "--seed-ratio", "--out"):  # fmt: skip
        assert flag in proc.stdout, flag
