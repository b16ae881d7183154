"""Writes insights_reference.json: asreview-insights 1.6.1's own WSS, recall and ATD of random
screening orders, the reference the tests check casepool's metrics against.

Run once with an environment holding asreview 2.2 and asreview-insights 1.6.1 (not
casepool's: they pin pandas<3), e.g. the venv benchmarks/asreview_runs.py makes:

    /tmp/casepool-asreview-venv/bin/python tests/data/screening/make_insights_reference.py
"""

import json
import random
from pathlib import Path

from asreviewcontrib.insights import metrics

cases = []
rng = random.Random(20261202)
for _ in range(40):
    n = rng.randint(2, 120)
    r = rng.randint(1, max(1, n // 3))
    labels = [1] * r + [0] * (n - r)
    rng.shuffle(labels)
    if rng.random() < 0.5:  # a good order: most relevant records early
        labels.sort(key=lambda v: -v + rng.random() * 1.5)
    ids = list(range(n))
    cases.append(
        {
            "labels": labels,
            "wss95": metrics._wss(labels, 0.95),
            "wss100": metrics._wss(labels, 1.0),
            "rrf10": metrics._recall(labels, 0.1),
            "atd": metrics._average_time_to_discovery(metrics._time_to_discovery(ids, labels)),
        }
    )
out = Path(__file__).with_name("insights_reference.json")
out.write_text(json.dumps({"source": "asreview-insights 1.6.1", "cases": cases}, indent=None))
