"""Reusable test cases for components, in the spirit of pykeen's ``tests/cases.py``.

Testing a new component is a subclass with one or two class attributes (see test_components.py):

- :class:`EncoderCase`: ``modality`` (a key of ``MODALITY_ENCODERS``): output shape, row selection,
  gradients, absent entities get the missing token;
- :class:`FusionCase`: ``kind`` (a key of ``FUSIONS``): weights sum to 1 over present modalities,
  0 for absent ones, unit joint rows, no NaN for an entity without any modality;
- :class:`ReaderCase`: ``fmt`` (a key of :data:`tiny.FORMATS`) and the expected counts: loads,
  a cached load equals a fresh one, any file replaced by a folder is an error naming it;
- :class:`LossCase`: ``loss(z1, z2)``: a finite scalar with gradients, lower for matching rows.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import torch
from tiny import FAST, FORMATS, make_tiny_pair, write

from mimea_core.data import load_pair
from mimea_core.errors import DataFormatError
from mimea_core.model import build_vocab, prepare_inputs
from mimea_core.model.fusion import build_fusion
from mimea_core.registry import MODALITY_ENCODERS


class EncoderCase:
    modality: ClassVar[str]
    visual: ClassVar[str] = "partial"  # the tiny pair's visual features

    @pytest.fixture(scope="class")
    @classmethod
    def setup(cls):
        torch.manual_seed(0)
        pair = make_tiny_pair(n=30, visual=cls.visual)
        vocab = build_vocab(pair, 100, 100)
        encoder_cls = MODALITY_ENCODERS[cls.modality].load()
        assert encoder_cls.has_data(vocab), f"the tiny pair has no {cls.modality} data"
        inputs = prepare_inputs(pair, vocab, [cls.modality], "cpu")
        return inputs, encoder_cls.from_config(FAST, vocab).eval()

    def test_output_shape_and_row_selection(self, setup):
        inputs, encoder = setup
        out = encoder(inputs)
        assert out.shape == (inputs.total, FAST.dim) and torch.isfinite(out).all()
        ids = torch.tensor([3, 0, inputs.total - 1, 3])
        assert torch.allclose(encoder(inputs, ids), out[ids], atol=1e-5)

    def test_gradients_reach_every_parameter(self, setup):
        inputs, encoder = setup
        encoder.zero_grad()
        encoder(inputs).square().sum().backward()
        for name, p in encoder.named_parameters():
            if not p.requires_grad:  # frozen by design (the label-free value / structure maps)
                assert p.grad is None, name
                continue
            assert p.grad is not None and torch.isfinite(p.grad).all(), name

    def test_absent_entities_get_the_missing_token(self, setup):
        inputs, encoder = setup
        present = inputs.present.get(self.modality)
        if present is None or bool(present.all()) or not hasattr(encoder, "missing"):
            pytest.skip("every entity has this modality")
        out = encoder(inputs)[~present]
        assert torch.allclose(out, encoder.missing.expand_as(out))


class FusionCase:
    kind: ClassVar[str]

    @pytest.fixture
    def fusion(self):
        torch.manual_seed(0)
        return build_fusion(self.kind, 4, 8, heads=2).eval()

    @pytest.fixture
    def batch(self):
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(6, 4, 8, generator=gen)
        present = torch.rand(6, 4, generator=gen) > 0.3
        present[0] = True
        present[1] = False  # an entity without any modality
        return x, present

    def test_weights_are_a_distribution_over_present_modalities(self, fusion, batch):
        x, present = batch
        out = fusion(x, present, sample=False)
        assert torch.all(out.weights[~present] == 0)
        has = present.any(1)
        assert torch.allclose(out.weights[has].sum(1), torch.ones(int(has.sum())), atol=1e-5)
        assert torch.all(out.weight_var >= 0) and torch.all(out.weight_var[~present] == 0)

    def test_joint_rows_are_unit_and_finite(self, fusion, batch):
        x, present = batch
        out = fusion(x, present, sample=True)
        assert out.joint.shape == (6, 32) and torch.isfinite(out.joint).all()
        norms = out.joint[present.any(1)].norm(dim=1)
        assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
        assert torch.all(out.joint[1] == 0) and torch.isfinite(out.weights).all()  # no modality: no NaN


class ReaderCase:
    fmt: ClassVar[str]
    counts: ClassVar[tuple[int, int, int]]  # entities of KG1, of KG2, gold links

    @pytest.fixture
    def folder(self, tmp_path, monkeypatch):
        monkeypatch.setenv("MIMEA_CACHE", str(tmp_path / "cache"))
        return write(tmp_path / "pair", FORMATS[self.fmt])

    def test_loads_with_the_expected_counts(self, folder):
        pair = load_pair(folder, use_cache=False)
        assert (pair.kg1.num_entities, pair.kg2.num_entities, pair.num_links) == self.counts

    def test_a_cached_load_equals_a_fresh_one(self, folder):
        fresh = load_pair(folder, use_cache=False)
        load_pair(folder)
        cached = load_pair(folder)
        assert cached.kg1.entities == fresh.kg1.entities and cached.kg2.entities == fresh.kg2.entities
        assert np.array_equal(cached.links, fresh.links) and cached.warnings == fresh.warnings

    def test_a_file_replaced_by_a_folder_is_an_error_naming_it(self, folder):
        for rel in FORMATS[self.fmt]:
            if rel.endswith(".toml"):
                continue
            path = folder / rel
            content = path.read_bytes()
            path.unlink()
            path.mkdir()
            try:
                with pytest.raises(DataFormatError) as info:
                    load_pair(folder, use_cache=False)
                assert rel.split("/")[-1] in str(info.value), rel
            finally:
                path.rmdir()
                path.write_bytes(content)


class LossCase:
    def loss(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @pytest.fixture
    def rows(self):
        gen = torch.Generator().manual_seed(0)
        z = torch.nn.functional.normalize(torch.randn(16, 8, generator=gen), dim=1)
        near = torch.nn.functional.normalize(z + 0.05 * torch.randn(16, 8, generator=gen), dim=1)
        other = torch.nn.functional.normalize(torch.randn(16, 8, generator=gen), dim=1)
        return z, near, other

    def test_finite_scalar_with_gradients(self, rows):
        z, near, _ = rows
        z = z.clone().requires_grad_(True)
        value = self.loss(z, near)
        assert value.ndim == 0 and torch.isfinite(value)
        value.backward()
        assert z.grad is not None and torch.isfinite(z.grad).all()

    def test_lower_for_matching_rows_than_for_unrelated_ones(self, rows):
        z, near, other = rows
        assert float(self.loss(z, near)) < float(self.loss(z, other))
