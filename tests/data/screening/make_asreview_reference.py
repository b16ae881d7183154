"""Writes asreview_reference.json: what ``asreview simulate`` (ASReview 2.2, its default
model elas_u4) does on urinary_incontinence_40.csv (label_included), seeds 0 to 4: the
priors it draws, the order it screens in, asreview-insights 1.6.1's figures.

Run once from this folder with an environment holding asreview 2.2 and asreview-insights
1.6.1 (not casepool's: they pin pandas<3), e.g. the venv benchmarks/asreview_runs.py makes:

    /tmp/casepool-asreview-venv/bin/python make_asreview_reference.py
"""

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from asreview import open_state
from asreviewcontrib.insights import metrics
from asreviewcontrib.insights.utils import get_simulation_labels

here = Path(__file__).resolve().parent
runs = []
with tempfile.TemporaryDirectory() as tmp:
    data = Path(tmp) / "data.csv"
    with (here / "urinary_incontinence_40.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "abstract", "included"])
        for row in rows:
            writer.writerow([row["title"], row["abstract"], row["label_included"]])
    for seed in range(5):
        project = Path(tmp) / f"run{seed}.asreview"
        subprocess.run(
            [
                *(str(Path(sys.executable).with_name("asreview")), "simulate", str(data)),
                *("--ai", "elas_u4", "--n-prior-included", "1", "--n-prior-excluded", "1"),
                *("--prior-seed", str(seed), "--seed", str(seed), "-o", str(project)),
            ],
            check=True,
            capture_output=True,
            cwd=tmp,
        )
        with open_state(project) as state:
            table = state.get_results_table(columns=["record_id", "querier"], priors=True)
            priors = state.get_priors()["record_id"].tolist()
        labels = get_simulation_labels(project, priors=False)
        runs.append(
            {
                "seed": seed,
                "priors": [int(p) for p in priors],
                "order": [
                    int(r) for r, q in zip(table["record_id"], table["querier"], strict=True) if q
                ],
                "wss95": metrics._wss(labels, 0.95),
                "wss100": metrics._wss(labels, 1.0),
                "rrf10": metrics._recall(labels, 0.1),
            }
        )
out = here / "asreview_reference.json"
out.write_text(json.dumps({"source": "asreview 2.2 simulate --ai elas_u4", "runs": runs}))
