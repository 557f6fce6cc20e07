"""Every registered component through the shared cases of tests/cases.py (one subclass each)."""

from __future__ import annotations

from cases import EncoderCase, FusionCase, LossCase, ReaderCase

from mimea_core.losses import info_nce, ot_alignment_loss
from mimea_core.registry import FUSIONS, MODALITY_ENCODERS


class TestGraphEncoder(EncoderCase):
    modality = "graph"


class TestRelationEncoder(EncoderCase):
    modality = "relation"


class TestAttributeEncoder(EncoderCase):
    modality = "attribute"


class TestVisualEncoder(EncoderCase):
    modality = "visual"


class TestValueEncoder(EncoderCase):
    modality = "value"


class TestStructureEncoder(EncoderCase):
    modality = "structure"


# The name encoder needs the MiniLM model: tested end to end in test_model_name.py.
CASED_MODALITIES = {"graph", "relation", "attribute", "visual", "name", "value", "structure"}


class TestBetaFusion(FusionCase):
    kind = "beta"


class TestAttentionFusion(FusionCase):
    kind = "attention"


class TestUniformFusion(FusionCase):
    kind = "uniform"


class TestMMKBReader(ReaderCase):
    fmt = "mmkb"
    counts = (3, 2, 2)


class TestTSVReader(ReaderCase):
    fmt = "tsv"
    counts = (4, 2, 2)


class TestMMEAReader(ReaderCase):
    fmt = "mmea"
    counts = (3, 2, 2)


class TestJAPEReader(ReaderCase):
    fmt = "jape"
    counts = (3, 2, 2)


class TestOpenKEReader(ReaderCase):
    fmt = "openke"
    counts = (3, 2, 1)


class TestInfoNCE(LossCase):
    def loss(self, z1, z2):
        return info_nce(z1, z2, 0.1)


class TestOTAlignmentLoss(LossCase):
    def loss(self, z1, z2):
        return ot_alignment_loss(z1, z2, 0.05)


def test_every_registered_component_has_a_case():
    assert set(MODALITY_ENCODERS) <= CASED_MODALITIES
    assert set(FUSIONS) == {"beta", "attention", "uniform"}
