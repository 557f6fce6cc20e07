"""MIMEA: multi-modal entity alignment between two multi-modal knowledge graphs.

Public API (see README): :func:`mimea_core.data.load_pair`, :func:`mimea_core.data.make_split`,
:class:`mimea_core.config.MIMEAConfig`, :func:`mimea_core.training.train`,
:func:`mimea_core.evaluation.evaluate_run`, :func:`mimea_core.candidates.suggest`.
"""

__version__ = "0.1.0"
