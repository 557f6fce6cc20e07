"""Component registries (plain dicts): a new modality, fusion or graph encoder = one module + one entry.

Each entry names its class as ``"module:Class"``, imported on first use, so reading the choices
(config validation, the command line's ``choices=``, the app's select boxes) never imports torch.

- ``MODALITY_ENCODERS``: modality name -> a :class:`~mimea_core.model.encoder.ModalityEncoder`
  subclass (``from_config(config, vocab)``, ``has_data(vocab)``, optional ``input_features(pair, vocab)``);
  the order here is the order ``--help`` lists them.
- ``FUSIONS``: fusion name -> a :class:`~mimea_core.model.fusion.ModalFusion` subclass.
- ``GRAPH_ENCODERS``: graph-encoder name -> the options the graph modality is built with.

The data readers have their own registry, :mod:`mimea_core.data.formats.registry`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Component:
    target: str  # "package.module:Class"
    help: str  # one line for --help and the app
    options: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


MODALITY_ENCODERS: dict[str, Component] = {
    "graph": Component("mimea_core.model.gat:GraphEncoder", "entity embeddings through a graph network"),
    "relation": Component("mimea_core.model.relation:RelationEncoder", "bag of relations by direction"),
    "attribute": Component("mimea_core.model.attribute:AttributeEncoder", "attribute types and values"),
    "visual": Component("mimea_core.model.visual:VisualEncoder", "given image feature vectors"),
    "name": Component("mimea_core.model.name:NameEncoder", "MiniLM sentence embeddings of names"),
    "value": Component("mimea_core.model.values:ValueEncoder", "attribute values as tokens shared by both KGs (label-free)"),
    "structure": Component(
        "mimea_core.model.propagation:StructureEncoder", "training-free label propagation from the seeds"
    ),
}

FUSIONS: dict[str, Component] = {
    "beta": Component("mimea_core.model.fusion:BetaFusion", "probability-guided (Beta) weights"),
    "uniform": Component("mimea_core.model.fusion:UniformFusion", "equal weights"),
    "attention": Component("mimea_core.model.fusion:AttentionFusion", "plain attention weights"),
}

GRAPH_ENCODERS: dict[str, Component] = {
    "gat": Component("mimea_core.model.gat:GraphEncoder", "edge attention", {"attention": True}),
    "gcn": Component("mimea_core.model.gat:GraphEncoder", "fixed degree weights", {"attention": False}),
    "rgat": Component(
        "mimea_core.model.gat:GraphEncoder",
        "edge attention with a learned term per relation and direction (relation-aware)",
        {"attention": True, "relations": True},
    ),
}


def choices_help(registry: dict[str, Component]) -> str:
    """``name: help; name: help`` for a command-line flag."""
    return "; ".join(f"{name}: {c.help}" for name, c in registry.items())
