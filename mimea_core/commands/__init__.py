"""One module per command-line command (see :mod:`mimea_core.cli`)."""
