"""Deduplication: comparable features of a record, pair matching with vetoes, clusters with
stable ids, and what a person does with duplicates (decide, undo, export)."""
