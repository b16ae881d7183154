"""casepool meta: effect measures, pooling, heterogeneity, GLMM and forest plots.

Usable on its own: this package imports nothing from ``review`` or ``extraction``.
"""
