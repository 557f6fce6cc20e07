"""The readers, one module per format, and their registries (:mod:`.registry`).

``mmkb`` (the MMKB release), ``openke`` (OpenKE id files, one KG), ``idformat`` (MMEA preprocessed
and JAPE/DBP15K), ``tsv`` (our layout), ``pairfile`` (``*.toml`` pair descriptions).
"""
