"""Reference figures to compare against (see ../shared/baselines/README.md and DESIGN.md sec. 5).

``SAME_FILES`` were measured by running MEAformer's public code on this project's exact files and
CPU (no images, no names; model chosen on test, as its code does). ``PUBLISHED`` are the paper
figures (complete graphs, with images, chosen on test): a reference only.
"""

from __future__ import annotations

# (dataset, seed ratio) -> {"hits@1", "hits@10", "mrr"}
SAME_FILES: dict[tuple[str, float], dict[str, float]] = {
    ("FB15K-DB15K", 0.2): {"hits@1": 0.367, "hits@10": 0.666, "mrr": 0.468},
    ("FB15K-YAGO15K", 0.2): {"hits@1": 0.072, "hits@10": 0.189, "mrr": 0.113},
}

PUBLISHED_MEAFORMER: dict[tuple[str, float], dict[str, float]] = {
    ("FB15K-DB15K", 0.2): {"hits@1": 0.417, "mrr": 0.518},
    ("FB15K-DB15K", 0.5): {"hits@1": 0.619, "mrr": 0.698},
    ("FB15K-DB15K", 0.8): {"hits@1": 0.765, "mrr": 0.820},
    ("FB15K-YAGO15K", 0.2): {"hits@1": 0.327, "mrr": 0.417},
    ("FB15K-YAGO15K", 0.5): {"hits@1": 0.560, "mrr": 0.639},
    ("FB15K-YAGO15K", 0.8): {"hits@1": 0.703, "mrr": 0.766},
}

# Training-free name baseline (MiniLM names, cosine, 20% split): results with names count only above it.
NAMES_ONLY: dict[tuple[str, float], dict[str, float]] = {
    ("FB15K-DB15K", 0.2): {"hits@1": 0.950, "hits@10": 0.991, "mrr": 0.967},
    ("FB15K-YAGO15K", 0.2): {"hits@1": 0.957, "hits@10": 0.994, "mrr": 0.972},
}
