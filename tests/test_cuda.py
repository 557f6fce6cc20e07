"""The CUDA path against the CPU: encoders, fusion, losses, training, evaluation, candidates, checkpoints.

Skipped when ``torch.cuda.is_available()`` is False. ``MIMEA_TEST_GPU_DEVICE=cpu`` runs the same
checks with the CPU standing in for the GPU (a dry run of this file's code on a machine without
one; the comparisons are then trivially close). ``benchmarks/gpu_check.sh`` runs this file on a
GPU machine.

Tolerances: float32 on both sides, but cuBLAS/cuSPARSE sum in a different order than MKL/OpenMP,
so results agree to rounding (relative ~1e-6 per product, a few 1e-5 after two graph layers and the
fusion), not bit for bit; 1e-4 (relative to the largest magnitude) is used throughout.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest
import torch
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.candidates import suggest
from mimea_core.config import MIMEAConfig
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation import evaluate_embeddings, one_to_one_hits
from mimea_core.inference import embed
from mimea_core.model import MIMEAModel, available_modalities, build_inputs, build_vocab
from mimea_core.model.name import NAME_DIM
from mimea_core.training import train
from mimea_core.training.objective import batch_losses
from mimea_core.training.pseudo import mutual_nearest_pairs

DEVICE = os.environ.get("MIMEA_TEST_GPU_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(
    DEVICE == "cuda" and not torch.cuda.is_available(),
    reason="no CUDA device (torch.cuda.is_available() is False); run on a GPU machine, "
    "e.g. with benchmarks/gpu_check.sh",
)
ALL = ("graph", "relation", "attribute", "visual", "name")
TOL = 1e-4


def close(a: torch.Tensor, b: torch.Tensor, tol: float = TOL) -> bool:
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    scale = max(float(a.abs().max()), float(b.abs().max()), 1e-6)
    return a.shape == b.shape and float((a - b).abs().max()) <= tol * scale


@pytest.fixture(scope="module")
def pair():
    return make_tiny_pair(n=48, visual="partial")


def _name_features(pair, seed: int = 0):
    """Stand-in sentence embeddings for the name modality (the real ones need the MiniLM wheel)."""
    rng = np.random.default_rng(seed)
    n1, n2 = pair.kg1.num_entities, pair.kg2.num_entities
    x1 = rng.normal(size=(n1, NAME_DIM)).astype(np.float32)
    x2 = rng.normal(size=(n2, NAME_DIM)).astype(np.float32)
    return {"name": (x1, np.ones(n1, bool), x2, rng.random(n2) < 0.8)}


def _model_and_inputs(pair, config: MIMEAConfig):
    vocab = build_vocab(pair, 100, 100)
    torch.manual_seed(0)
    model = MIMEAModel(config, vocab, available_modalities(config, vocab))
    extra = _name_features(pair)
    return model, build_inputs(pair, vocab, "cpu", extra), build_inputs(pair, vocab, DEVICE, extra)


@pytest.mark.parametrize(
    ("graph_encoder", "fusion"), [("rgat", "beta"), ("gat", "beta"), ("gcn", "attention"), ("rgat", "uniform")]
)
def test_every_encoder_and_the_fusion_match_the_cpu(pair, graph_encoder, fusion):
    config = FAST.replace(modalities=ALL, graph_encoder=graph_encoder, fusion=fusion)
    cpu, inputs_cpu, inputs_dev = _model_and_inputs(pair, config)
    assert cpu.modalities == list(ALL)
    dev = copy.deepcopy(cpu).to(DEVICE)
    gen = torch.Generator().manual_seed(1)
    n = inputs_cpu.total
    probes = {m: torch.randn(n, config.dim, generator=gen) for m in ALL}
    probe_joint = torch.randn(n, config.dim * len(ALL), generator=gen)
    outs = {}
    for name, model, inputs in (("cpu", cpu, inputs_cpu), ("dev", dev, inputs_dev)):
        model.eval()  # no dropout, Beta means: both sides compute the same function
        modal = model.encode(inputs)
        fused = model.fuse(modal, model.present(inputs), sample=False)
        loss = sum((modal[m] * probes[m].to(modal[m].device)).sum() for m in ALL)
        loss = loss + (fused.joint * probe_joint.to(fused.joint.device)).sum()
        model.zero_grad()
        loss.backward()
        outs[name] = (modal, fused, {k: p.grad for k, p in model.named_parameters() if p.grad is not None})
    (m_cpu, f_cpu, g_cpu), (m_dev, f_dev, g_dev) = outs["cpu"], outs["dev"]
    assert str(f_dev.joint.device).startswith(DEVICE)
    for m in ALL:
        assert close(m_cpu[m], m_dev[m]), f"{m} encoder output differs"
    assert close(f_cpu.joint, f_dev.joint) and close(f_cpu.weights, f_dev.weights)
    assert set(g_cpu) == set(g_dev) and any(k.startswith("encoders.graph") for k in g_cpu)
    for k in g_cpu:
        assert close(g_cpu[k], g_dev[k]), f"gradient of {k} differs"


def test_training_losses_with_ot_match_the_cpu(pair):
    # attention fusion and no dropout: no device RNG is drawn, so both sides see the same batch
    config = FAST.replace(fusion="attention", entity_dropout=0.0, use_ot=True, ot_batch=24)
    cpu, inputs_cpu, inputs_dev = _model_and_inputs(pair, config)
    dev = copy.deepcopy(cpu).to(DEVICE)
    n1 = pair.kg1.num_entities
    batch = torch.as_tensor(pair.links[:20] + np.array([0, n1]))
    results = []
    for model, inputs in ((cpu, inputs_cpu), (dev, inputs_dev)):
        model.train()
        losses = batch_losses(model, inputs, batch.to(model.device), config, torch.Generator().manual_seed(3))
        total = torch.stack(list(losses.values())).sum()
        model.zero_grad()
        total.backward()
        results.append((losses, {k: p.grad for k, p in model.named_parameters() if p.grad is not None}))
    (l_cpu, g_cpu), (l_dev, g_dev) = results
    assert set(l_cpu) == set(l_dev) and "ot" in l_cpu
    for k in l_cpu:
        assert close(l_cpu[k], l_dev[k]), f"loss {k}: {float(l_cpu[k])} vs {float(l_dev[k])}"
    for k in g_cpu:
        assert close(g_cpu[k], g_dev[k], 1e-3), f"gradient of {k} differs"


@pytest.mark.slow
def test_short_training_on_the_sample_pair_on_cuda(sample_data_dir):
    from mimea_core.data import load_pair, make_split

    path = sample_data_dir / "fb15k-db15k-small"
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    sample = load_pair(path)
    split = make_split(sample, seed_ratio=0.3, seed=0)
    config = MIMEAConfig(dim=64, epochs=12, eval_every=3, patience=10, pseudo_start=6, pseudo_every=3)
    vocab = build_vocab(sample, config.relation_topk, config.attribute_topk)
    untrained = MIMEAModel(config, vocab, available_modalities(config, vocab))
    before = evaluate_embeddings(embed(untrained, sample), split, one_to_one=False)["standard"]["hits@1"]
    on_dev = train(sample, config.replace(device=DEVICE), split=split)
    on_cpu = train(sample, config.replace(device="cpu"), split=split)
    got, ref = on_dev.metrics.standard["hits@1"], on_cpu.metrics.standard["hits@1"]
    print(f"H@1 untrained {before:.3f}, {DEVICE} {got:.3f}, cpu {ref:.3f}; metrics {on_dev.metrics.extra.get('gpu')}")
    assert on_dev.metrics.device == DEVICE
    if DEVICE == "cuda":
        assert on_dev.metrics.extra["peak_gpu_mb"] > 0 and on_dev.metrics.extra["gpu"]
    assert got > before + 0.1, (before, got)
    # the two runs round differently from the first step on, so they are two samples of one
    # training, not the same numbers: within 0.1 H@1 on this ~1k-link test set
    assert abs(got - ref) < 0.1, (got, ref)


def _random_embeddings(n: int = 300, dim: int = 32, seed: int = 0) -> Embeddings:
    rng = np.random.default_rng(seed)
    e1 = rng.normal(size=(n, dim)).astype(np.float32)
    e2 = (e1[::-1] + 0.7 * rng.normal(size=(n, dim))).astype(np.float32)
    emb = Embeddings.from_joint(e1, e2)
    emb.modalities = ["graph"]
    emb.per_modality = {"graph": emb.joint}
    emb.weights = {"graph": (np.ones(n, np.float32), np.ones(n, np.float32))}
    return emb


def test_evaluation_and_candidates_on_cuda_match_the_cpu():
    from mimea_core.data.types import Split

    n = 300
    emb = _random_embeddings(n)
    links = np.stack([np.arange(n), np.arange(n)[::-1]], 1)
    split = Split(train=links[:60], valid=links[60:90], test=links[90:], seed_ratio=0.3, seed=0)
    m_cpu = evaluate_embeddings(emb, split, device="cpu")
    m_dev = evaluate_embeddings(emb, split, device=DEVICE)
    for proto in ("standard", "open"):
        for key in ("hits@1", "hits@10", "mrr"):
            assert abs(m_cpu[proto][key] - m_dev[proto][key]) <= 2 / len(split.test), (proto, key)
    assert abs(m_cpu["one_to_one"]["hits@1"] - m_dev["one_to_one"]["hits@1"]) <= 2 / len(split.test)

    c_cpu = suggest(emb, top_k=5, exclude_kg1=links[:60, 0], exclude_kg2=links[:60, 1], device="cpu")
    c_dev = suggest(emb, top_k=5, exclude_kg1=links[:60, 0], exclude_kg2=links[:60, 1], device=DEVICE)
    assert len(c_cpu) == len(c_dev)
    assert (c_cpu["target"].to_numpy() == c_dev["target"].to_numpy()).mean() > 0.99
    assert np.allclose(np.sort(c_cpu["score"]), np.sort(c_dev["score"]), atol=1e-4)

    # the sparse one-to-one path (forced by a small cap) and pseudo-mining, on the device
    E1, E2 = (torch.as_tensor(x) for x in emb.joint)
    test = split.test
    sparse = [
        one_to_one_hits(a, b, test, max_elements=5000)
        for a, b in ((E1, E2), (E1.to(DEVICE), E2.to(DEVICE)))
    ]
    assert abs(sparse[0] - sparse[1]) <= 2 / len(test)
    free = np.arange(90, n)
    p_cpu = mutual_nearest_pairs(E1, E2, free, free[::-1].copy(), 0.3, chunk=64)
    p_dev = mutual_nearest_pairs(E1.to(DEVICE), E2.to(DEVICE), free, free[::-1].copy(), 0.3, chunk=64)
    same = {tuple(r) for r in p_cpu} & {tuple(r) for r in p_dev}
    assert len(same) >= 0.98 * max(len(p_cpu), 1)


def test_a_checkpoint_saved_on_cuda_loads_on_the_cpu(pair, tmp_path):
    from mimea_core.runs import load_run

    split = tiny_split(pair)
    result = train(pair, FAST.replace(device=DEVICE, epochs=2), split=split, out_dir=tmp_path / "run")
    assert result.metrics.device == DEVICE
    loaded = load_run(tmp_path / "run", device="cpu")
    assert all(p.device.type == "cpu" for p in loaded.model.parameters())
    again = embed(loaded.model, pair)
    for a, b in zip(result.embeddings.joint, again.joint, strict=True):
        assert close(torch.as_tensor(a), torch.as_tensor(b))
    redo = evaluate_embeddings(again, split)
    assert abs(redo["standard"]["hits@1"] - result.metrics.standard["hits@1"]) <= 2 / len(split.test)


def test_deterministic_runs_on_cuda_agree(pair):
    config = FAST.replace(device=DEVICE, epochs=2, deterministic=True)
    runs = [train(pair, config, split=tiny_split(pair)) for _ in range(2)]
    assert not torch.are_deterministic_algorithms_enabled()  # the switch is restored after training
    a, b = (r.embeddings.joint[0] for r in runs)
    print(f"deterministic {DEVICE}: bit-identical embeddings: {bool(np.array_equal(a, b))}")
    assert np.allclose(a, b, atol=1e-4)
