"""What a benchmark grid is: (dataset, seed ratio) cells × model variants × split seeds.

A variant is a name plus the ``train`` command-line flags that make it, so that every record can
be reproduced by hand with the exact command it stores.

Protocol (see the README): every cell trains for the same fixed compute budget, ``epochs`` full
passes over the seed pairs with early stopping off (the model is still *selected* on validation
MRR); wall-clock time is recorded beside it, never used to stop. Reported grids run split seeds
``REPORT_SEEDS`` (1, 2, 3) and are summarised as mean ± sd; tuning happens on the development split
seed ``DEV_SEED`` (100) only, in the ``dev`` grid, whose results are never reported.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mimea_core.errors import ConfigError

SEED_RATIOS = (0.01, 0.05, 0.1, 0.2, 0.5, 0.8)
DATASETS = {
    "FB15K-DB15K": "datasets/fb15k-db15k.toml",
    "FB15K-YAGO15K": "datasets/fb15k-yago15k.toml",
}
BASE_MODALITIES = ("graph", "relation", "attribute", "value")
REPORT_SEEDS = (1, 2, 3)
DEV_SEED = 100
# Fixed compute budget of a cell: epochs over the seed pairs (pseudo-seeds join from epoch 4, every 2).
# 12, not the 20 first chosen: since pseudo-seeding starts at epoch 4 the later epochs carry many
# pseudo-seeds and cost 3-5x the first ones; on the development split (seed 100) FB15K-DB15K 20% was
# at .674 by epoch 10 (docs/experiments-structure.md), and 12 epochs keep a cell near 10 CPU-minutes.
BUDGET_EPOCHS = 12
# At few seeds an epoch is only a couple of optimizer steps (5%: 2 steps before pseudo-seeds join,
# 86 in 12 epochs), so 12 epochs stop a model that is still learning: on the development split
# (FB15K-DB15K 5%, seed 100) validation MRR was .860 at epoch 12 and .925 at epoch 22 of 24, in
# 357 s. Cells at seed ratios <= LOW_SEED_RATIO get LOW_SEED_BUDGET_EPOCHS (docs/experiments-modules.md).
LOW_SEED_RATIO = 0.05
LOW_SEED_BUDGET_EPOCHS = 24


def budget_epochs(seed_ratio: float) -> int:
    """The fixed training budget (epochs) of a cell at ``seed_ratio``, the same for every variant."""
    return LOW_SEED_BUDGET_EPOCHS if seed_ratio <= LOW_SEED_RATIO + 1e-9 else BUDGET_EPOCHS


@dataclass(frozen=True)
class Variant:
    """A model variant: a short name and the extra ``train`` flags that select it."""

    name: str
    flags: tuple[str, ...] = ()
    description: str = ""


FULL = Variant("full", (), "full MIMEA (graph, relation, attribute, value; no names; no cross-modal attention)")

# Each MIMEA module switched off (or replaced) in turn; a new module's ablation is one more entry.
ABLATIONS: tuple[Variant, ...] = (
    FULL,
    Variant("no_ot", ("--no-ot",), "naive mean alignment instead of optimal-transport modal alignment"),
    Variant("uniform_fusion", ("--fusion", "uniform"), "uniform modality weights instead of Beta fusion"),
    Variant("attention_fusion", ("--fusion", "attention"), "plain attention fusion, no Beta weights"),
    Variant("no_modal_contrastive", ("--no-modal-contrastive",), "without per-modality contrastive terms"),
    Variant("with_cross_modal", ("--cross-modal",), "with cross-modal attention between modalities (off by default)"),
    Variant("no_pseudo_seeding", ("--no-pseudo-seeding",), "without iterative pseudo-seeding"),
    Variant("stable_pseudo", ("--pseudo-method", "stable"), "pseudo-seeds accumulated, confirmed twice (CSLS)"),
    Variant("value_anchors", ("--value-anchors",), "label-free anchors from agreeing attribute values, from epoch 1"),
    Variant("open_validation", ("--valid-pool", "open"), "model selected on validation ranked among all non-seeds"),
    Variant("last_epoch", ("--no-restore-best",), "the last epoch's weights, not the best validation epoch's"),
    Variant("sinkhorn_decoding", ("--decoding", "sinkhorn"), "test matrix ranked by its Sinkhorn plan, not CSLS"),
    Variant("edge_attention", ("--graph-encoder", "gat"), "plain edge attention, no relation terms (the default before rgat)"),
)

MODALITY_VARIANTS: tuple[Variant, ...] = (
    FULL,
    *(
        Variant(
            f"without_{m}",
            ("--modalities", ",".join(x for x in BASE_MODALITIES if x != m)),
            f"{m} modality removed",
        )
        for m in BASE_MODALITIES
    ),
    Variant(
        "with_structure",
        ("--modalities", ",".join((*BASE_MODALITIES, "structure"))),
        "training-free label-propagation channel added",
    ),
    Variant(
        "structure_only",
        ("--modalities", "graph,relation"),
        "graph and relation modalities only (the structure-only setting of cross-lingual benchmarks)",
    ),
    Variant(
        "with_names",
        ("--modalities", ",".join((*BASE_MODALITIES, "name"))),
        "name modality added (reported separately: peers do not use names)",
    ),
)


@dataclass(frozen=True)
class BenchCell:
    """One training run of a grid."""

    dataset: str
    dataset_path: str
    seed_ratio: float
    variant: Variant
    split_seed: int = 0
    epochs: int = BUDGET_EPOCHS  # the cell's fixed training budget

    @property
    def key(self) -> str:
        return f"{self.dataset}|{self.seed_ratio:g}|{self.variant.name}|{self.split_seed}"

    @property
    def run_name(self) -> str:
        return f"{self.dataset.lower()}_r{self.seed_ratio:g}_{self.variant.name}_s{self.split_seed}_e{self.epochs}"


@dataclass(frozen=True)
class GridSpec:
    """A named grid. ``cells()`` enumerates it in a stable order (cells, variants, split seeds).

    The (dataset, ratio) cells are ``datasets × ratios``, or exactly ``pairs`` when given.
    ``development`` marks a tuning grid (split seed 100): its table says it is never to be reported.
    ``epochs`` fixes every cell's budget; ``None`` (the default) uses :func:`budget_epochs` per ratio.
    """

    name: str
    datasets: tuple[str, ...]
    ratios: tuple[float, ...]
    variants: tuple[Variant, ...] = (FULL,)
    split_seeds: tuple[int, ...] = REPORT_SEEDS
    dataset_paths: dict[str, str] = field(default_factory=lambda: dict(DATASETS))
    pairs: tuple[tuple[str, float], ...] | None = None
    epochs: int | None = None
    development: bool = False

    def dataset_ratios(self) -> list[tuple[str, float]]:
        if self.pairs is not None:
            return [(d, r) for d, r in self.pairs if d in self.datasets and r in self.ratios]
        return [(d, r) for d in self.datasets for r in self.ratios]

    def cells(self) -> list[BenchCell]:
        out = []
        for dataset, ratio in self.dataset_ratios():
            if dataset not in self.dataset_paths:
                choices = ", ".join(sorted(self.dataset_paths))
                raise ConfigError(f"unknown dataset {dataset!r}; choose from {choices} or give a PATH")
            for variant in self.variants:
                for split_seed in self.split_seeds:
                    epochs = self.epochs if self.epochs is not None else budget_epochs(ratio)
                    path = self.dataset_paths[dataset]
                    out.append(BenchCell(dataset, path, ratio, variant, split_seed, epochs))
        return out

    def restricted(
        self,
        datasets: tuple[str, ...] | None = None,
        ratios: tuple[float, ...] | None = None,
        variants: tuple[str, ...] | None = None,
        split_seeds: tuple[int, ...] | None = None,
    ) -> GridSpec:
        """The same grid limited to some datasets, ratios, variant names or split seeds (same file).

        Datasets named here that the grid lacks (e.g. one given with ``--dataset-path``) replace the
        grid's datasets, at the grid's ratios.
        """
        chosen_variants = self.variants
        if variants:
            known = {v.name: v for v in self.variants}
            unknown = [v for v in variants if v not in known]
            if unknown:
                raise ConfigError(f"unknown variant(s) {unknown}; this grid has {sorted(known)}")
            chosen_variants = tuple(known[v] for v in variants)
        pairs = self.pairs
        if pairs is not None and datasets and not set(datasets) & {d for d, _ in pairs}:
            pairs = tuple((d, r) for d in datasets for r in sorted({r for _, r in pairs}))
        return dataclasses.replace(
            self,
            datasets=datasets or self.datasets,
            ratios=ratios or self.ratios,
            variants=chosen_variants,
            split_seeds=split_seeds or self.split_seeds,
            pairs=pairs,
        )


MAIN_CELLS = (("FB15K-DB15K", 0.2), ("FB15K-DB15K", 0.05), ("FB15K-YAGO15K", 0.2))

GRIDS: dict[str, GridSpec] = {
    "main": GridSpec("main", tuple(DATASETS), SEED_RATIOS),
    "ablations": GridSpec("ablations", tuple(DATASETS), (0.2, 0.05), ABLATIONS, pairs=MAIN_CELLS),
    # FB15K-YAGO15K too: its graph is sparse (30% of the triples), where the value channel matters most
    "modalities": GridSpec("modalities", ("FB15K-DB15K", "FB15K-YAGO15K"), (0.2,), MODALITY_VARIANTS,
                           pairs=(("FB15K-DB15K", 0.2), ("FB15K-YAGO15K", 0.2))),  # fmt: skip
    # for choosing settings: every variant of the reported grids, on the development split only
    "dev": GridSpec("dev", ("FB15K-DB15K",), (0.2,), (*ABLATIONS, *MODALITY_VARIANTS[1:]), split_seeds=(DEV_SEED,),
                    development=True),  # fmt: skip
    "quick": GridSpec("quick", ("FB15K-DB15K",), (0.2,), split_seeds=(REPORT_SEEDS[0],)),
}
