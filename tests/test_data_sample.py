"""The bundled sample pairs: each folder loads, is a real verbatim subset, and is documented."""

from __future__ import annotations

import numpy as np
import pytest

from mimea_core.data import load_pair

FOLDERS = ["fb15k-db15k-small", "fb15k-yago15k-small"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_sample_pair_loads(sample_data_dir, folder, tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path))
    pair = load_pair(sample_data_dir / folder)
    assert 2_000 <= pair.num_links <= 3_000
    assert pair.kg1.name == "FB15K" and pair.kg2.name in ("DB15K", "YAGO15K")
    for kg in (pair.kg1, pair.kg2):
        assert len(kg.triples) > 2_000
        assert len(kg.attr_triples) > 1_000
        assert len(kg.images) > 0.9 * kg.num_entities
        # every kept entity is a real one with a display name
        assert all(kg.names) and len(set(kg.entities)) == kg.num_entities
    # links are one-to-one here and stay within the entity ranges
    assert pair.links[:, 0].max() < pair.kg1.num_entities and pair.links[:, 1].max() < pair.kg2.num_entities
    assert (sample_data_dir / folder / "README.md").read_text().count("mmkb_offline/") >= 9


def test_every_sample_folder_loads(sample_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path))
    folders = sorted(p for p in sample_data_dir.iterdir() if p.is_dir())
    assert folders
    for folder in folders:
        assert load_pair(folder).num_links > 0


@pytest.mark.realdata
@pytest.mark.parametrize("folder", FOLDERS)
def test_sample_lines_are_verbatim_real_lines(data_root, sample_data_dir, folder):
    sample = sample_data_dir / folder
    for path in sorted(sample.glob("*/*.txt")):
        real = data_root / "mmkb_offline" / path.parent.name / path.name
        real_lines = set(real.read_text(encoding="utf-8").splitlines())
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines and set(lines) <= real_lines, path


def test_sample_split_is_usable(sample_data_dir):
    from mimea_core.data import make_split

    pair = load_pair(sample_data_dir / FOLDERS[0], use_cache=False)
    split = make_split(pair, seed_ratio=0.2, seed=0)
    assert len(split.train) + len(split.valid) == pytest.approx(0.2 * pair.num_links, abs=3)
    assert not ({tuple(r) for r in split.test.tolist()} & {tuple(r) for r in split.train.tolist()})
    assert np.isin(split.test[:, 0], pair.links[:, 0]).all()
