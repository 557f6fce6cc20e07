"""Pair description files (``*.toml``): the two KGs' folders, their formats and the links file.

Example (``datasets/fb15k-db15k.toml``)::

    name = "FB15K-DB15K"
    root = "${MIMEA_DATA}/mmkb_offline"   # relative paths below start here
    [kg1]
    format = "mmkb"                        # mmkb | openke | tsv
    path = "FB15K"
    [kg2]
    format = "mmkb"
    path = "DB15K"
    [links]
    path = "DB15K/DB15K_SameAsLink.txt"    # '/m/x <SameAs> <uri> .' or 'kg1_id<TAB>kg2_id' lines
    [kg1.features]                          # optional
    visual = { path = "fb_visual.npy", ids = "fb_visual_ids.txt" }

Shorthand for a pair of an MMKB root folder: ``root = "..."`` and ``mmkb_pair = "FB15K-DB15K"``
(KG folders ``FB15K/`` and ``DB15K/`` under the root, the links in the second).

``${VAR}`` expands environment variables; ``MIMEA_DATA`` defaults to ``../shared/data`` beside
the project. A relative ``root`` is relative to the ``.toml`` file's folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from mimea_core.data.formats import mmkb
from mimea_core.data.formats.registry import KG_FORMATS
from mimea_core.data.pair import FeatureSpec, PairPlan, assemble
from mimea_core.errors import DataFormatError

_VAR = re.compile(r"\$\{(\w+)\}")


PROJECT_ROOT = Path(__file__).resolve().parents[3]  # mimea_core/data/formats/pairfile.py -> the checkout


def default_data_root(project: Path = PROJECT_ROOT) -> Path:
    """``$MIMEA_DATA``, else ``../shared/data`` beside the project folder (or ``shared/data`` inside
    it, as on a machine that copies the checkout with its ``shared/`` folder)."""
    env = os.environ.get("MIMEA_DATA")
    if env:
        return Path(env)
    beside, inside = project.parent / "shared" / "data", project / "shared" / "data"
    return inside if inside.is_dir() and not beside.is_dir() else beside


def _expand(text: str, path: Path) -> str:
    if "\x00" in text:
        raise DataFormatError(
            path, None, f"path {text!r} contains a NUL character; expected a file or folder path"
        )

    def repl(match: re.Match[str]) -> str:
        var = match.group(1)
        if var == "MIMEA_DATA":
            return str(default_data_root())
        if var not in os.environ:
            raise DataFormatError(path, None, f"environment variable ${{{var}}} is not set")
        return os.environ[var]

    return _VAR.sub(repl, text)


def _table(doc: dict, key: str, path: Path) -> dict:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise DataFormatError(path, None, f"expected a [{key}] table")
    return value


def _string(table: dict, key: str, where: str, path: Path, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise DataFormatError(path, None, f"expected a string '{key}' in {where}")
    return value


def plan(path: Path) -> PairPlan:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise DataFormatError(path, None, f"cannot read the pair description: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise DataFormatError(path, None, f"not valid TOML ({err}); expected a pair description") from None
    root = Path(_expand(doc.get("root", "."), path)) if isinstance(doc.get("root", "."), str) else None
    if root is None:
        raise DataFormatError(path, None, "expected 'root' to be a string")
    if not root.is_absolute():
        root = path.parent / root
    if not root.is_dir():
        raise DataFormatError(path, None, f"data root {root} not found (set MIMEA_DATA to the data folder)")

    def resolve(text: str) -> Path:
        p = Path(_expand(text, path))
        return p if p.is_absolute() else root / p

    if "mmkb_pair" in doc:
        pair_name = doc["mmkb_pair"]
        if not isinstance(pair_name, str):
            raise DataFormatError(path, None, "expected 'mmkb_pair' to be a string like \"FB15K-DB15K\"")
        return mmkb.root_pair_plan(root, pair_name)

    kgs = []
    features: dict[str, list[FeatureSpec | None]] = {}
    for side_index, side in enumerate(("kg1", "kg2")):
        table = _table(doc, side, path)
        fmt = _string(table, "format", f"[{side}]", path, "mmkb")
        if fmt not in KG_FORMATS:
            raise DataFormatError(
                path, None, f"unknown format {fmt!r} in [{side}]; expected one of {', '.join(KG_FORMATS)}"
            )
        folder = resolve(_string(table, "path", f"[{side}]", path))
        name = table.get("name")
        kgs.append((fmt, folder, name if isinstance(name, str) else None))
        feature_table = table.get("features") or {}
        if not isinstance(feature_table, dict):
            raise DataFormatError(path, None, f"expected a [{side}.features] table")
        for modality, spec in feature_table.items():
            if isinstance(spec, str):
                spec = {"path": spec}
            if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
                raise DataFormatError(
                    path, None, f"expected [{side}.features] {modality} = {{ path = ..., ids = ... }}"
                )
            ids = spec.get("ids")
            entry = FeatureSpec(resolve(spec["path"]), resolve(ids) if isinstance(ids, str) else None)
            features.setdefault(modality, [None, None])[side_index] = entry
    links_path = resolve(_string(_table(doc, "links", path), "path", "[links]", path))
    files = []
    for fmt, folder, _ in kgs:
        files += KG_FORMATS[fmt].files(folder)
    if not links_path.is_file():
        raise DataFormatError(links_path, None, f"links file not found (named in {path})")
    files.append(links_path)

    def build(strict: bool):
        builders = [KG_FORMATS[fmt].read(folder, name) for fmt, folder, name in kgs]
        name = (
            doc.get("name") if isinstance(doc.get("name"), str) else f"{builders[0].name}-{builders[1].name}"
        )
        return assemble(
            name,
            builders[0],
            builders[1],
            mmkb.read_links(links_path),
            strict,
            (str(kgs[0][1]), str(kgs[1][1])),
        )

    formats = "+".join(k[0] for k in kgs)
    return PairPlan(
        name=str(doc.get("name", path.stem)),
        format=f"toml:{formats}",
        files=files,
        build=build,
        features={m: (v[0], v[1]) for m, v in features.items()},
    )
