"""Extraction in a review: the studies to extract, values entered as events (who, when,
how), dual extraction compared and resolved, and per-study counts derived for pooling."""
