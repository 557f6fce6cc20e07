"""``load_pair``: one PATH (a folder holding one pair, or a ``*.toml`` pair description) to an MMKGPair.

Folder formats are recognised from their file names, in the order of
:data:`mimea_core.data.formats.registry.PAIR_FORMATS`:

1. a ``pair.toml`` inside the folder (a pair description, see :mod:`mimea_core.data.formats.pairfile`);
2. MMKB: two KG subfolders with ``*_EntityTriples.txt``, one of them holding ``*_SameAsLink.txt``
   (that one is KG2, as in MMKB where DB15K/YAGO15K hold the links to FB15K);
3. MMEA preprocessed: ``ent_ids_1``, ``ent_ids_2``, ``ill_ent_ids``;
4. JAPE / DBP15K: ``ent_ids_1``, ``ent_ids_2``, ``ref_ent_ids``;
5. our TSV layout: ``links.tsv``, ``kg1/``, ``kg2/``.

Parsed pairs are cached (:mod:`mimea_core.data.cache`); extra feature files are attached after.
"""

from __future__ import annotations

from pathlib import Path

from mimea_core.data import cache
from mimea_core.data.features import load_features
from mimea_core.data.formats import pairfile
from mimea_core.data.formats.registry import PAIR_FORMATS
from mimea_core.data.pair import FeatureSpec, PairPlan
from mimea_core.data.types import MMKGPair
from mimea_core.errors import DataFormatError

LOOKED_FOR = (
    "pair.toml; two MMKB KG folders (*_EntityTriples.txt, one with *_SameAsLink.txt); "
    "MMEA files (ent_ids_1, ent_ids_2, ill_ent_ids); JAPE/DBP15K files (ent_ids_1, ent_ids_2, ref_ent_ids); "
    "our TSV layout (links.tsv, kg1/triples.tsv, kg2/triples.tsv)"
)


def plan_for(path: Path) -> PairPlan:
    """The loading plan for PATH (no parsing yet)."""
    if "\x00" in str(path):
        raise DataFormatError(
            None, None, f"path {str(path)!r} contains a NUL character; expected a folder or *.toml"
        )
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() == ".toml":
            return pairfile.plan(path)
        raise DataFormatError(path, None, "expected a folder holding one pair or a *.toml pair description")
    if not path.is_dir():
        raise DataFormatError(
            path, None, "not found; expected a folder holding one pair or a *.toml pair description"
        )
    if (path / "pair.toml").is_file():
        return pairfile.plan(path / "pair.toml")
    for detect in PAIR_FORMATS.values():
        found = detect(path)
        if found is not None:
            return found
    raise DataFormatError(path, None, f"no recognisable pair format; looked for {LOOKED_FOR}")


def _feature_specs(features: dict | None) -> dict[str, tuple[FeatureSpec | None, FeatureSpec | None]]:
    specs: dict[str, tuple[FeatureSpec | None, FeatureSpec | None]] = {}
    for modality, files in (features or {}).items():
        if not isinstance(files, (tuple, list)) or len(files) != 2:
            raise DataFormatError(
                None, None, f"features[{modality!r}]: expected (kg1_file, kg2_file), either may be None"
            )
        pair_specs = []
        for f in files:
            if f is None or isinstance(f, FeatureSpec):
                pair_specs.append(f)
            elif isinstance(f, (tuple, list)):
                pair_specs.append(FeatureSpec(Path(f[0]), Path(f[1]) if f[1] else None))
            else:
                p = Path(f)
                ids = p.with_name(p.stem + "_ids.txt")
                pair_specs.append(FeatureSpec(p, ids if ids.is_file() and p.suffix == ".npy" else None))
        specs[modality] = (pair_specs[0], pair_specs[1])
    return specs


def load_pair(
    path: str | Path,
    *,
    strict: bool = False,
    use_cache: bool = True,
    features: dict | None = None,
    allow_pickle: bool = False,
) -> MMKGPair:
    """Load the pair at ``path`` (folder or ``*.toml``); raises :class:`DataFormatError` on bad input.

    ``features``: extra feature files per modality, ``{"visual": (kg1_file, kg2_file)}``; a file is a
    ``.npy`` (its id list is ``<stem>_ids.txt`` beside it when present, or pass ``(npy, ids)``) or,
    with ``allow_pickle=True`` only, a ``{id: vector}`` pickle. ``strict`` turns duplicate and
    one-to-many links into :class:`StrictModeError`.
    """
    try:
        plan = plan_for(Path(path))
        key = cache.fingerprint(plan.files, f"{plan.format}|strict={strict}")
        paths = cache.anchors(plan.files)
        pair = cache.load(key, paths) if use_cache else None
        if pair is None:
            pair = plan.build(strict)
            if use_cache:
                cache.save(pair, key, paths)
    except OSError as err:  # permissions, a file removed while reading, ...
        where = err.filename or path
        raise DataFormatError(
            where, None, f"cannot read ({err.strerror or err}); expected readable data files"
        ) from None
    pair.source = str(path)
    pair.fingerprint = key
    all_features = dict(plan.features)
    all_features.update(_feature_specs(features))
    for modality, specs in all_features.items():
        for spec, kg in zip(specs, (pair.kg1, pair.kg2), strict=True):
            if spec is None:
                continue
            if (
                spec.path.suffix.lower() in (".pkl", ".pickle")
                and not allow_pickle
                and modality not in (features or {})
            ):
                pair.warnings.append(
                    f"{spec.path}: pickle feature file skipped (load it with allow_pickle=True)"
                )
                continue
            loaded, warnings = load_features(spec, kg, allow_pickle=allow_pickle)
            kg.features[modality] = loaded
            pair.warnings.extend(warnings)
    return pair
