"""Bad input never gives a traceback: each problem is a DataFormatError naming file, line and what was expected.

Tiny valid pairs in each format are written to a folder and then broken one file at a time; the
property tests (hypothesis) write arbitrary bytes as each file: it loads or raises DataFormatError.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import FORMATS, MMEA, MMKB, TSV, write

from mimea_core.data import load_pair
from mimea_core.data.textio import MAX_LINE_CHARS
from mimea_core.errors import DataFormatError, StrictModeError


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path / "cache"))


def _error(folder: Path, **kwargs) -> DataFormatError:
    with pytest.raises(DataFormatError) as info:
        load_pair(folder, use_cache=False, **kwargs)
    return info.value


# (format, file to replace, new content, expected line, message fragment)
CASES = [
    ("mmkb", "FB/FB_EntityTriples.txt", "", None, "file is empty; expected relation triples"),
    ("tsv", "links.tsv", "\n\n  \n", None, "file is empty; expected links"),
    (
        "mmkb",
        "FB/FB_EntityTriples.txt",
        b"/m/a\t/r\t/m/b\n\x89PNG\x00\x00\x01",
        2,
        "binary content (NUL byte)",
    ),
    ("tsv", "kg1/names.tsv", b"a\tAlice\nb\tB\xe9atrice\n", 2, "not valid UTF-8 (byte 0xe9)"),
    (
        "mmkb",
        "DB/DB_SameAsLink.txt",
        "/m/a <SameAs> <http://db/resource/A> .\n\xff".encode("latin-1"),
        2,
        "not valid UTF-8",
    ),
    (
        "mmkb",
        "FB/FB_EntityTriples.txt",
        "/m/a\t/r/x\t/m/b\n/m/b\t/r/y\n",
        2,
        "expected 3 fields (head, relation, tail",
    ),
    (
        "mmkb",
        "FB/FB_NumericalTriples.txt",
        "/m/a\th\t1\textra\n",
        1,
        "expected 3 fields (entity, attribute, value), found 4",
    ),
    (
        "tsv",
        "kg1/triples.tsv",
        "a\tr\tb\nb r c\n",
        2,
        "expected 3 tab-separated columns (head, relation, tail), found 1",
    ),
    (
        "tsv",
        "kg1/attributes.tsv",
        "a\theight\n",
        1,
        "expected 3 tab-separated columns (entity, attribute, value), found 2",
    ),
    (
        "tsv",
        "kg1/triples.tsv",
        "a\tr\tb\n" + "x" * (MAX_LINE_CHARS + 5) + "\n",
        2,
        "characters long (limit 1,000,000)",
    ),
    ("openke", "one/train2id.txt", "2\n0 1 0\n1 7 0\n", 3, "tail entity id 7 out of range; expected 0..2"),
    (
        "openke",
        "one/entity2id.txt",
        "3\n/m/a\t0\n/m/b\t1\n/m/c\t5\n",
        4,
        "entity id 5 out of range; expected 0..2",
    ),
    (
        "openke",
        "one/entity2id.txt",
        "3\n/m/a\t0\n/m/b\t1\n/m/c\t1\n",
        4,
        "entity id 1 defined twice (also line 3)",
    ),
    (
        "openke",
        "one/entity2id.txt",
        "3\n/m/a\t0\n/m/b\t1\n/m/a\t2\n",
        4,
        "entity '/m/a' defined twice (also line 2)",
    ),
    (
        "openke",
        "one/entity2id.txt",
        "4\n/m/a\t0\n/m/b\t1\n/m/c\t2\n",
        1,
        "count line says 4 entitys, found 3",
    ),
    ("openke", "one/train2id.txt", "2\n0 1\n", 2, "expected 3 fields (head tail relation ids), found 2"),
    ("openke", "one/train2id.txt", "two\n0 1 0\n", 1, "expected an integer triple count"),
    (
        "mmea",
        "ent_ids_2",
        "3\t<http://db/resource/A>\n1\t<http://db/resource/B>\n",
        2,
        "entity id 1 defined twice (also ent_ids_1 line 2)",
    ),
    ("mmea", "triples_1", "0\t0\t1\n1\t1\t4\n", 2, "entity id 4 is not in ent_ids_1"),
    ("mmea", "ill_ent_ids", "0\t3\n1\t9\n", 2, "unknown entity id 9"),
    ("mmea", "ill_ent_ids", "0\t3\n0\t1\n", 2, "both ends of the link are KG1 entities"),
    ("mmea", "ill_ent_ids", "0\t3\n4\t1\n", 2, "link is reversed"),
    (
        "mmea",
        "training_attrs_1",
        "/m/zzz\theight\n",
        1,
        "unknown KG1 entity '/m/zzz'; expected one listed in ent_ids_1",
    ),
    ("jape", "sup_ent_ids", "1\t4\nx\t4\n", 2, "expected an integer entity id, found 'x'"),
    (
        "mmkb",
        "DB/DB_SameAsLink.txt",
        "/m/a <SameAs> <http://db/resource/A> .\n/m/zz <SameAs> <http://db/resource/B> .\n",
        2,
        "unknown FB entity '/m/zz' (not in any FB file)",
    ),
    (
        "mmkb",
        "DB/DB_SameAsLink.txt",
        "/m/a <SameAs> <http://db/resource/Nope> .\n",
        1,
        "unknown DB entity '<http://db/resource/Nope>'",
    ),
    ("mmkb", "DB/DB_SameAsLink.txt", "/m/a <SameAs> /m/b .\n", 1, "both ends of the link are FB entities"),
    ("tsv", "links.tsv", "x\ty\n", 1, "both ends of the link are kg2 entities"),
    (
        "tsv",
        "links.tsv",
        "a\tx\tz\n",
        1,
        "expected 2 tab-separated columns (kg1 entity, kg2 entity), found 3",
    ),
    (
        "mmkb",
        "DB/DB_SameAsLink.txt",
        "/m/a <SameAs>\n",
        1,
        "expected a link 'kg1_entity <SameAs> kg2_entity .', found 2 fields",
    ),
    ("openke", "pair.toml", "root = \n", None, "not valid TOML"),
    ("openke", "pair.toml", 'root = "a\\u0000b"\n', None, "contains a NUL character"),
    (
        "openke",
        "pair.toml",
        'root = "."\n[kg1]\nformat = "xml"\npath = "one"\n',
        None,
        "unknown format 'xml' in [kg1]; expected one of mmkb, openke, tsv",
    ),
    (
        "openke",
        "pair.toml",
        'root = "."\n[kg1]\npath = "one"\n[kg2]\npath = "two"\n',
        None,
        "expected a [links] table",
    ),
]


@pytest.mark.parametrize(
    ("fmt", "rel", "content", "line", "fragment"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)],
)
def test_bad_input_message_names_file_line_and_expectation(tmp_path, fmt, rel, content, line, fragment):
    folder = write(tmp_path / "pair", FORMATS[fmt], **{rel: content})
    err = _error(folder)
    assert fragment in str(err)
    assert err.path is not None and err.path.endswith(rel.replace("/", os.sep))
    assert err.line == line
    assert str(err).startswith(f"{err.path}:{line}: " if line else f"{err.path}: ")


def test_no_recognisable_format_lists_what_was_looked_for(tmp_path):
    write(tmp_path, {"notes.txt": "hello\n", "sub/other.csv": "a,b\n"})
    err = _error(tmp_path)
    for looked in (
        "pair.toml",
        "*_EntityTriples.txt",
        "ent_ids_1",
        "ill_ent_ids",
        "ref_ent_ids",
        "links.tsv",
    ):
        assert looked in str(err)


def test_not_a_folder_or_toml(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n")
    assert "expected a folder holding one pair or a *.toml" in str(_error(tmp_path / "x.csv"))
    assert "not found" in str(_error(tmp_path / "missing"))


# --- duplicate and one-to-many links: warnings, errors with strict ---------------------------------


def test_duplicate_links_dropped_with_warning_and_strict_error(tmp_path):
    folder = write(tmp_path / "p", TSV, **{"links.tsv": "a\tx\nb\ty\na\tx\n"})
    pair = load_pair(folder, use_cache=False)
    assert pair.num_links == 2
    assert any("1 identical duplicate link(s) dropped: a -> x (lines 1 and 3)" in w for w in pair.warnings)
    with pytest.raises(StrictModeError, match="duplicate link.*refused by --strict"):
        load_pair(folder, strict=True, use_cache=False)


def test_one_to_many_links_kept_with_warning_naming_them(tmp_path):
    folder = write(tmp_path / "p", TSV, **{"links.tsv": "a\tx\nb\tx\nc\ty\n"})
    pair = load_pair(folder, use_cache=False)
    assert pair.num_links == 3
    warning = next(w for w in pair.warnings if "one-to-many" in w)
    assert "links.tsv" in warning and "x (2 kg1 entities)" in warning and "kept as gold" in warning
    with pytest.raises(StrictModeError, match="one-to-many"):
        load_pair(folder, strict=True)
    # strict and non-strict results are cached apart
    assert load_pair(folder).num_links == 3


# --- odd but valid input ---------------------------------------------------------------------------


def test_bom_crlf_blank_lines_html_and_markdown_names_load(tmp_path):
    files = {
        "kg1/triples.tsv": "\ufeffa\tr\tb\r\nb\tr\tc\r\n\r\n\r\n",
        "kg1/names.tsv": "a\t<img src=x onerror=alert(1)>\r\nb\t**bold** [link](http://x)\r\niso\tLonely\r\n",
        "kg2/triples.tsv": "x\ts\ty\n\n\n",
        "links.tsv": "\ufeffa\tx\r\nb\ty\r\n   \n",
    }
    pair = load_pair(write(tmp_path / "p", files), use_cache=False)
    kg1 = pair.kg1
    assert kg1.entities == ["a", "b", "c", "iso"]
    assert kg1.names[:2] == ["<img src=x onerror=alert(1)>", "**bold** [link](http://x)"]
    assert kg1.relations == ["r"] and pair.num_links == 2
    isolated = kg1.entity_index()["iso"]
    assert isolated not in kg1.triples[:, [0, 2]]


def test_error_line_numbers_count_blank_and_crlf_lines(tmp_path):
    folder = write(tmp_path / "p", TSV, **{"kg1/triples.tsv": "a\tr\tb\r\n\r\n\r\nbad line\r\n"})
    assert _error(folder).line == 4


# --- feature files ---------------------------------------------------------------------------------


def _tsv_with_features(tmp_path, matrix, ids) -> Path:
    folder = write(tmp_path / "p", TSV)
    np.save(folder / "kg1" / "visual.npy", matrix)
    if ids is not None:
        (folder / "kg1" / "visual_ids.txt").write_text("\n".join(ids) + "\n")
    return folder


def test_features_nan_names_the_entry(tmp_path):
    m = np.ones((3, 4))
    m[1, 2] = np.nan
    err = _error(_tsv_with_features(tmp_path, m, ["a", "b", "c"]))
    assert "entry 'b' (row 1) has NaN or infinite values" in str(err) and err.path.endswith("visual.npy")


def test_features_inf_is_an_error(tmp_path):
    m = np.ones((3, 4))
    m[2, 0] = np.inf
    assert "entry 'c' (row 2)" in str(_error(_tsv_with_features(tmp_path, m, ["a", "b", "c"])))


def test_features_mismatched_rows(tmp_path):
    err = _error(_tsv_with_features(tmp_path, np.ones((3, 4)), ["a", "b"]))
    assert "2 ids but visual.npy has 3 rows" in str(err) and err.path.endswith("visual_ids.txt")


def test_features_without_ids_need_one_row_per_entity(tmp_path):
    err = _error(_tsv_with_features(tmp_path, np.ones((2, 4)), None))
    assert "2 rows but kg1 has 4 entities" in str(err)


def test_features_wrong_shape_and_garbage(tmp_path):
    assert "expected a 2-d array" in str(_error(_tsv_with_features(tmp_path, np.ones(4), ["a"])))
    folder = write(
        tmp_path / "q", TSV, **{"kg1/visual.npy": b"\x93NUMPY garbage", "kg1/visual_ids.txt": "a\n"}
    )
    assert "not a readable .npy matrix" in str(_error(folder))


def test_features_id_listed_twice(tmp_path):
    err = _error(_tsv_with_features(tmp_path, np.ones((2, 3)), ["a", "a"]))
    assert err.line == 2 and "listed twice" in str(err)


def test_features_partial_any_dimension(tmp_path):
    folder = _tsv_with_features(tmp_path, np.arange(2 * 11, dtype=np.float64).reshape(2, 11), ["c", "a"])
    pair = load_pair(folder, use_cache=False)
    vis = pair.kg1.features["visual"]
    assert vis.dim == 11 and vis.mask.tolist() == [True, False, True, False]
    assert vis.matrix[0, 0] == 11.0 and vis.matrix[2, 0] == 0.0 and vis.coverage == 0.5


def test_pickle_features_refused_without_allow_pickle(tmp_path):
    folder = write(tmp_path / "p", TSV)
    pkl = tmp_path / "vis.pkl"
    with open(pkl, "wb") as handle:
        pickle.dump({"x": [1.0, 2.0], "y": [3.0, 4.0], "unknown": [0.0, 0.0]}, handle)
    with pytest.raises(DataFormatError, match="allow_pickle"):
        load_pair(folder, features={"visual": (None, pkl)})
    pair = load_pair(folder, features={"visual": (None, pkl)}, allow_pickle=True)
    assert pair.kg2.features["visual"].mask.all()
    assert any("1 feature rows name no kg2 entity" in w for w in pair.warnings)


def test_pickle_that_runs_code_is_not_loaded_by_default(tmp_path):
    class Evil:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    folder = write(tmp_path / "p", TSV)
    pkl = tmp_path / "evil.pkl"
    pkl.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(DataFormatError):
        load_pair(folder, features={"visual": (pkl, None)})
    assert not (tmp_path / "pwned").exists()


# --- property tests: any bytes in any reader's file load or raise DataFormatError ------------------

TARGETS = [(fmt, rel) for fmt, files in FORMATS.items() for rel in files]
TEXTY = st.text(alphabet='ab01 \t\n\r<>.#-_:/"^@é\ufeff', max_size=200).map(lambda t: t.encode("utf-8"))
CONTENT = st.one_of(st.binary(max_size=200), TEXTY)


@pytest.mark.parametrize(("fmt", "rel"), TARGETS, ids=[f"{f}-{r}" for f, r in TARGETS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=CONTENT)
def test_any_bytes_load_or_raise_our_error(tmp_path_factory, fmt, rel, content):
    folder = write(tmp_path_factory.mktemp("prop"), FORMATS[fmt], **{rel: content})
    try:
        pair = load_pair(folder, use_cache=False)
    except DataFormatError as err:
        assert str(err)
    else:
        assert pair.num_links > 0


@settings(max_examples=40, deadline=None)
@given(content=st.binary(max_size=300), ids=TEXTY)
def test_any_feature_file_loads_or_raises_our_error(tmp_path_factory, content, ids):
    folder = write(
        tmp_path_factory.mktemp("feat"), TSV, **{"kg1/visual.npy": content, "kg1/visual_ids.txt": ids}
    )
    with contextlib.suppress(DataFormatError):
        load_pair(folder, use_cache=False)


# -- a required or optional file that is not a regular file; warnings of a cached load ------------
@pytest.mark.parametrize(
    ("fmt", "rel"),
    [("mmea", "triples_1"), ("mmea", "training_attrs_2"), ("tsv", "kg1/attributes.tsv"), ("tsv", "kg2/triples.tsv")],
)
def test_a_data_file_that_is_a_folder_is_an_error_naming_it(tmp_path, fmt, rel):
    files = {"mmea": MMEA, "tsv": TSV}[fmt]
    folder = write(tmp_path / "pair", {k: v for k, v in files.items() if k != rel})
    (folder / rel).mkdir(parents=True)
    err = _error(folder)
    assert err.path == str(folder / rel)
    assert "is a folder" in str(err)


def test_mmkb_triples_that_are_a_folder_is_an_error_naming_it(tmp_path):
    folder = write(tmp_path / "pair", {k: v for k, v in MMKB.items() if k != "FB/FB_EntityTriples.txt"})
    (folder / "FB/FB_EntityTriples.txt").mkdir()
    err = _error(folder)
    assert err.path == str(folder / "FB/FB_EntityTriples.txt")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_required_file_is_an_error_naming_it(tmp_path):
    folder = write(tmp_path / "pair", MMEA)
    (folder / "triples_1").chmod(0)
    try:
        err = _error(folder)
    finally:
        (folder / "triples_1").chmod(0o644)
    assert err.path == str(folder / "triples_1") and "cannot read" in str(err)


def test_a_cached_load_names_the_files_of_the_current_load(tmp_path):
    """The cache key hashes file names and bytes, so a copy elsewhere hits the first load's entry;
    its warnings must still name the copy's files."""
    without_triples = {k: v for k, v in MMEA.items() if k != "triples_2"}
    first = write(tmp_path / "first", without_triples)
    second = write(tmp_path / "second", without_triples)
    warned = load_pair(first).warnings
    assert any(str(first / "triples_2") in w for w in warned)
    again = load_pair(second).warnings
    assert len(again) == len(warned)
    assert any(str(second / "triples_2") in w for w in again)
    assert not any(str(first) in w for w in again)
    assert load_pair(first).warnings == warned
