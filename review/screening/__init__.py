"""Screening: stages, decisions as events, conflicts and resolutions, blind review, work
allocation, agreement between reviewers, full texts and the reports of one study.

The pure parts are ``events`` (the vocabulary), ``state`` (replaying events over today's
clusters), ``allocation``, ``agreement`` and ``highlight``; ``workflow`` is the use case
that composes them with the store.
"""
