"""Values that name rows of the analysis tables: the analysis modules write them and the plots style by them.

They live apart from both so that ``plots`` needs nothing from ``analysis`` (which imports ``plots`` to draw).
"""

CANDIDATE = "candidate"
CONTROL = "control"
"""Kinds of model in the selection table: a pre-training candidate or a control (an existing model)."""

ACCEPTABLE, NOT_ACCEPTABLE = 1, 0
"""Acceptability labels of the annotation sheet."""
MEAN = "mean"
"""The annotator name of the mean-over-annotators rows; reserved, so no annotator may be called so."""
