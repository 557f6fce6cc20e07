"""Every reader and the format auto-detection, on real lines (the bundled sample, and ../shared/data)."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from mimea_core.data import load_pair
from mimea_core.data.formats.tsv import write_pair
from mimea_core.errors import DataFormatError

SAMPLE = "fb15k-db15k-small"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def sample(sample_data_dir):
    return load_pair(sample_data_dir / SAMPLE, use_cache=False)


def _triple_strings(kg) -> set[tuple[str, str, str]]:
    return {(kg.entities[h], kg.relations[r], kg.entities[t]) for h, r, t in kg.triples.tolist()}


def _link_strings(pair) -> set[tuple[str, str]]:
    return {(pair.kg1.entities[a], pair.kg2.entities[b]) for a, b in pair.links.tolist()}


def write_idformat(pair, folder: Path, links_name: str, n_links: int = 300) -> dict:
    """A small MMEA/JAPE-style folder made of the real sample lines (global ids, KG2 offset)."""
    folder.mkdir(parents=True)
    links = pair.links[:n_links]
    kept = [sorted(set(links[:, 0].tolist())), sorted(set(links[:, 1].tolist()))]
    offset = len(kept[0])
    gid = [{e: i for i, e in enumerate(kept[0])}, {e: offset + i for i, e in enumerate(kept[1])}]
    rel_ids: dict[str, int] = {}
    expected = {}
    for side, kg in enumerate((pair.kg1, pair.kg2), start=1):
        g = gid[side - 1]
        (folder / f"ent_ids_{side}").write_text(
            "".join(f"{g[e]}\t{kg.entities[e]}\n" for e in kept[side - 1])
        )
        rows = [(h, r, t) for h, r, t in kg.triples.tolist() if h in g and t in g]
        lines = []
        for h, r, t in rows:
            rid = rel_ids.setdefault(kg.relations[r], len(rel_ids))
            lines.append(f"{g[h]}\t{rid}\t{g[t]}\n")
        (folder / f"triples_{side}").write_text("".join(lines))
        attrs: dict[int, list[str]] = {}
        for e, a in kg.attr_triples.tolist():
            if e in g:
                attrs.setdefault(e, []).append(kg.attributes[a])
        (folder / f"training_attrs_{side}").write_text(
            "".join(f"{kg.entities[e]}\t" + "\t".join(dict.fromkeys(v)) + "\n" for e, v in attrs.items())
        )
        expected[side] = {(kg.entities[h], kg.entities[t]) for h, _, t in rows}
    rels_of = {v: k for k, v in rel_ids.items()}
    for side in (1, 2):
        (folder / f"rel_ids_{side}").write_text("".join(f"{i}\t{rels_of[i]}\n" for i in sorted(rels_of)))
    (folder / links_name).write_text("".join(f"{gid[0][a]}\t{gid[1][b]}\n" for a, b in links.tolist()))
    return {
        "expected_edges": expected,
        "links": {(pair.kg1.entities[a], pair.kg2.entities[b]) for a, b in links.tolist()},
        "gid": gid,
    }


@pytest.mark.parametrize("links_name", ["ill_ent_ids", "ref_ent_ids"])
def test_mmea_and_jape_folders_round_trip(sample, tmp_path, links_name):
    info = write_idformat(sample, tmp_path / "pair", links_name)
    pair = load_pair(tmp_path / "pair")
    assert _link_strings(pair) == info["links"]
    for side, kg in ((1, pair.kg1), (2, pair.kg2)):
        edges = {(kg.entities[h], kg.entities[t]) for h, _, t in kg.triples.tolist()}
        assert edges == info["expected_edges"][side]
        assert len(kg.attr_triples) > 0 and all(v == "" for v in kg.attr_values)
    original = {(h, r, t) for h, r, t in _triple_strings(sample.kg2) if (h, t) in info["expected_edges"][2]}
    assert _triple_strings(pair.kg2) == original


def test_jape_sup_ent_ids_are_gold_too(sample, tmp_path):
    write_idformat(sample, tmp_path / "pair", "ref_ent_ids")
    ref = (tmp_path / "pair" / "ref_ent_ids").read_text().splitlines(keepends=True)
    (tmp_path / "pair" / "ref_ent_ids").write_text("".join(ref[100:]))
    (tmp_path / "pair" / "sup_ent_ids").write_text("".join(ref[:100]))
    pair = load_pair(tmp_path / "pair")
    assert pair.num_links == len(ref)


def test_mmea_image_pickle_only_with_allow_pickle(sample, tmp_path):
    info = write_idformat(sample, tmp_path / "pair", "ill_ent_ids")
    rng = np.random.default_rng(0)
    all_ids = list(info["gid"][0].values())[:50] + list(info["gid"][1].values())[:70]
    with open(tmp_path / "pair" / "img_feature_dict.pkl", "wb") as handle:
        pickle.dump({g: rng.normal(size=7).astype(np.float32) for g in all_ids}, handle)
    plain = load_pair(tmp_path / "pair")
    assert "visual" not in plain.kg1.features
    assert any("allow_pickle" in w for w in plain.warnings)
    pair = load_pair(tmp_path / "pair", allow_pickle=True)
    assert pair.kg1.features["visual"].dim == 7
    assert pair.kg1.features["visual"].mask.sum() == 50 and pair.kg2.features["visual"].mask.sum() == 70


def test_tsv_round_trip(sample, tmp_path):
    write_pair(sample, tmp_path / "mine")
    pair = load_pair(tmp_path / "mine")
    assert pair.kg1.name == "FB15K"
    for a, b in ((pair.kg1, sample.kg1), (pair.kg2, sample.kg2)):
        assert a.entities == b.entities and a.names == b.names
        assert _triple_strings(a) == _triple_strings(b)
        assert a.attr_values == b.attr_values
        np.testing.assert_allclose(a.attr_numeric, b.attr_numeric)
        assert a.images == b.images
    assert _link_strings(pair) == _link_strings(sample)


def test_tsv_npy_features_attached(sample, tmp_path):
    write_pair(sample, tmp_path / "mine")
    ids = sample.kg2.entities[::3]
    np.save(tmp_path / "mine" / "kg2" / "visual.npy", np.ones((len(ids), 5), dtype=np.float32))
    (tmp_path / "mine" / "kg2" / "visual_ids.txt").write_text("\n".join(ids) + "\n")
    pair = load_pair(tmp_path / "mine")
    visual = pair.kg2.features["visual"]
    assert visual.dim == 5 and visual.mask.sum() == len(ids)
    assert visual.mask[::3].all() and not visual.mask[1::3].any()
    assert (visual.matrix[~visual.mask] == 0).all()
    assert "visual" not in pair.kg1.features


def test_pair_toml_inside_a_folder_and_relative_root(sample_data_dir, tmp_path):
    shutil.copytree(sample_data_dir / SAMPLE, tmp_path / "copy")
    desc = tmp_path / "desc"
    desc.mkdir()
    (desc / "pair.toml").write_text(
        'name = "mine"\nroot = "../copy"\n[kg1]\nformat = "mmkb"\npath = "FB15K"\n'
        '[kg2]\nformat = "mmkb"\npath = "DB15K"\n[links]\npath = "DB15K/DB15K_SameAsLink.txt"\n'
    )
    pair = load_pair(desc)
    assert pair.name == "mine" and pair.num_links == 2_502


def test_toml_uses_mimea_data(sample_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_DATA", str(sample_data_dir))
    toml = tmp_path / "p.toml"
    toml.write_text(
        f'root = "${{MIMEA_DATA}}/{SAMPLE}"\n[kg1]\npath = "FB15K"\n[kg2]\npath = "DB15K"\n'
        '[links]\npath = "DB15K/DB15K_SameAsLink.txt"\n'
    )
    assert load_pair(toml).num_links == 2_502
    monkeypatch.setenv("MIMEA_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataFormatError, match="set MIMEA_DATA"):
        load_pair(toml)


def test_mmkb_n_triples_and_tab_forms_both_read(tmp_path):
    for kg, triples in (("AA", "a\tr\tb\nb\tr\tc\n"), ("BB", "<x> <s> <y> .\n<y> <s> <z> .\n")):
        (tmp_path / kg).mkdir()
        (tmp_path / kg / f"{kg}_EntityTriples.txt").write_text(triples)
    (tmp_path / "BB" / "BB_NumericalTriples.txt").write_text(
        '<x> <height> "1.5"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
    )
    (tmp_path / "BB" / "BB_SameAsLink.txt").write_text("a <SameAs> <x> .\nb\t<y>\n")
    pair = load_pair(tmp_path)
    assert (pair.kg1.name, pair.kg2.name) == ("AA", "BB")
    assert pair.kg2.entities == ["<x>", "<y>", "<z>"] and pair.kg2.names == ["x", "y", "z"]
    assert pair.kg2.attr_values == ["1.5"] and pair.kg2.attr_numeric[0] == 1.5
    assert pair.num_links == 2


@pytest.mark.realdata
def test_openke_pair_via_toml_on_real_folders(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_DATA", str(data_root))
    toml = tmp_path / "openke.toml"
    toml.write_text(
        'root = "${MIMEA_DATA}"\n[kg1]\nformat = "openke"\npath = "FB15K"\n[kg2]\nformat = "openke"\npath = "DB15K"\n'
        '[links]\npath = "mmkb_offline/DB15K/DB15K_SameAsLink.txt"\n'
    )
    pair = load_pair(toml)
    assert pair.kg1.num_entities == 14_951 and pair.kg2.num_entities == 12_842
    assert len(pair.kg1.triples) == 50_000 + 59_071  # FB15K valid + test (no duplicates between them)
    assert pair.kg1.names[pair.kg1.entity_index()["/m/0c94fn"]] == "Gary Rydstrom"  # entity2text.txt
    assert pair.num_links == 12_846


@pytest.mark.realdata
def test_mmea_real_ids_and_links(data_root):
    pair = load_pair(data_root / "FB15K_DB15K", use_cache=False)
    assert pair.kg1.num_entities == 14_951 and pair.kg2.num_entities == 12_842
    assert pair.num_links == 12_846
    assert any("triples_1: not found" in w for w in pair.warnings)
    # the same links as the MMKB SameAs file
    real = {
        tuple(line.split(" ")[0:3:2])
        for line in (data_root / "mmkb_offline/DB15K/DB15K_SameAsLink.txt").read_text().splitlines()
    }
    assert _link_strings(pair) == real


@pytest.mark.realdata
def test_single_openke_folder_is_explained(data_root):
    with pytest.raises(DataFormatError, match="OpenKE id format.*toml"):
        load_pair(data_root / "DB15K")


@pytest.mark.realdata
def test_mmkb_root_with_three_kgs_is_explained(data_root):
    with pytest.raises(DataFormatError, match=r"3 MMKB KG folder\(s\) \(DB15K, FB15K, YAGO15K\).*\.toml"):
        load_pair(data_root / "mmkb_offline")


def test_readme_tsv_example_loads(repo_root, tmp_path):
    import subprocess

    readme = (repo_root / "mimea_core" / "data" / "README.md").read_text()
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = "\n".join(line for line in block.splitlines() if not line.startswith("python "))
    subprocess.run(["bash", "-e", "-c", commands], cwd=tmp_path, check=True)
    pair = load_pair(tmp_path / "my-pair")
    assert (pair.kg1.num_entities, pair.kg2.num_entities, pair.num_links) == (3, 4, 2)


def test_toml_mmkb_root_and_pair_name_shorthand(sample_data_dir, tmp_path):
    toml = tmp_path / "short.toml"
    toml.write_text(f'root = "{sample_data_dir / SAMPLE}"\nmmkb_pair = "FB15K-DB15K"\n')
    pair = load_pair(toml)
    assert pair.name == "FB15K-DB15K" and pair.num_links == 2_502
    toml.write_text(f'root = "{sample_data_dir / SAMPLE}"\nmmkb_pair = "FB15K-YAGO15K"\n')
    with pytest.raises(DataFormatError, match="YAGO15K: folder not found"):
        load_pair(toml)


def test_the_default_data_root_is_shared_data_beside_the_checkout(tmp_path, monkeypatch):
    """Regression: moving the pair-file reader one folder deeper pointed the default data root
    inside the checkout, so every benchmark cell failed with "data root ... not found"."""
    from mimea_core.data.formats.pairfile import PROJECT_ROOT, default_data_root

    monkeypatch.delenv("MIMEA_DATA", raising=False)
    assert (PROJECT_ROOT / "mimea_core" / "__init__.py").is_file()
    project = tmp_path / "checkout"
    (project / "shared" / "data").mkdir(parents=True)
    assert default_data_root(project) == project / "shared" / "data"  # only the inside one exists
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert default_data_root(project) == tmp_path / "shared" / "data"  # beside wins, as documented
    monkeypatch.setenv("MIMEA_DATA", str(tmp_path / "elsewhere"))
    assert default_data_root(project) == tmp_path / "elsewhere"
