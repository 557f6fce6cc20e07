"""What a benchmark grid is: datasets × seed ratios × model variants.

A variant is a name plus the ``train`` command-line flags that make it, so that every record can
be reproduced by hand with the exact command it stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mimea_core.errors import ConfigError

SEED_RATIOS = (0.01, 0.05, 0.1, 0.2, 0.5, 0.8)
DATASETS = {
    "FB15K-DB15K": "datasets/fb15k-db15k.toml",
    "FB15K-YAGO15K": "datasets/fb15k-yago15k.toml",
}
BASE_MODALITIES = ("graph", "relation", "attribute")


@dataclass(frozen=True)
class Variant:
    """A model variant: a short name and the extra ``train`` flags that select it."""

    name: str
    flags: tuple[str, ...] = ()
    description: str = ""


FULL = Variant("full", (), "full MIMEA (graph, relation, attribute; no names)")

ABLATIONS: tuple[Variant, ...] = (
    FULL,
    Variant("no_ot", ("--no-ot",), "without optimal-transport modal alignment"),
    Variant("uniform_fusion", ("--fusion", "uniform"), "uniform modality weights instead of Beta fusion"),
    Variant("attention_fusion", ("--fusion", "attention"), "plain attention fusion, no Beta weights"),
    Variant("no_modal_contrastive", ("--no-modal-contrastive",), "without per-modality contrastive terms"),
    Variant("no_pseudo_seeding", ("--no-pseudo-seeding",), "without iterative pseudo-seeding"),
    *(
        Variant(
            f"without_{m}",
            ("--modalities", ",".join(x for x in BASE_MODALITIES if x != m)),
            f"{m} modality removed",
        )
        for m in BASE_MODALITIES
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

    @property
    def key(self) -> str:
        return f"{self.dataset}|{self.seed_ratio:g}|{self.variant.name}|{self.split_seed}"

    @property
    def run_name(self) -> str:
        return f"{self.dataset.lower()}_r{self.seed_ratio:g}_{self.variant.name}_s{self.split_seed}"


@dataclass(frozen=True)
class GridSpec:
    """A named grid. ``cells()`` enumerates it in a stable order (datasets, ratios, variants)."""

    name: str
    datasets: tuple[str, ...]
    ratios: tuple[float, ...]
    variants: tuple[Variant, ...] = (FULL,)
    split_seeds: tuple[int, ...] = (0,)
    dataset_paths: dict[str, str] = field(default_factory=lambda: dict(DATASETS))

    def cells(self) -> list[BenchCell]:
        out = []
        for dataset in self.datasets:
            if dataset not in self.dataset_paths:
                choices = ", ".join(sorted(self.dataset_paths))
                raise ConfigError(f"unknown dataset {dataset!r}; choose from {choices} or give a PATH")
            for ratio in self.ratios:
                for variant in self.variants:
                    for split_seed in self.split_seeds:
                        out.append(
                            BenchCell(dataset, self.dataset_paths[dataset], ratio, variant, split_seed)
                        )
        return out

    def restricted(
        self,
        datasets: tuple[str, ...] | None = None,
        ratios: tuple[float, ...] | None = None,
        variants: tuple[str, ...] | None = None,
    ) -> GridSpec:
        """The same grid limited to some datasets, ratios or variant names (same result file)."""
        chosen_variants = self.variants
        if variants:
            known = {v.name: v for v in self.variants}
            unknown = [v for v in variants if v not in known]
            if unknown:
                raise ConfigError(f"unknown variant(s) {unknown}; this grid has {sorted(known)}")
            chosen_variants = tuple(known[v] for v in variants)
        return GridSpec(
            name=self.name,
            datasets=datasets or self.datasets,
            ratios=ratios or self.ratios,
            variants=chosen_variants,
            split_seeds=self.split_seeds,
            dataset_paths=self.dataset_paths,
        )


GRIDS: dict[str, GridSpec] = {
    "main": GridSpec("main", tuple(DATASETS), SEED_RATIOS),
    "ablations": GridSpec("ablations", ("FB15K-DB15K",), (0.2, 0.05), ABLATIONS),
    "quick": GridSpec("quick", ("FB15K-DB15K",), (0.2,)),
}
