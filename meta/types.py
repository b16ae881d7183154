"""Names the field uses for measures, estimators and interval methods (metafor's)."""

from __future__ import annotations

from typing import Literal

Measure = Literal["PR", "PLN", "PLO", "PAS", "PFT"]
Method = Literal["EE", "DL", "REML", "PM", "ML", "HS", "SJ", "EB", "HE", "GLMM"]
Tau2Method = Literal["EE", "DL", "REML", "PM", "ML", "HS", "SJ", "EB", "HE"]
Test = Literal["z", "knha"]
StudyCIMethod = Literal["CP", "WS", "AC", "SA"]
CCMode = Literal["only0", "all", "if0all", "none"]

MEASURES: tuple[Measure, ...] = ("PR", "PLN", "PLO", "PAS", "PFT")
METHODS: tuple[Method, ...] = ("EE", "DL", "REML", "PM", "ML", "HS", "SJ", "EB", "HE", "GLMM")
TESTS: tuple[Test, ...] = ("z", "knha")
STUDY_CI_METHODS: tuple[StudyCIMethod, ...] = ("CP", "WS", "AC", "SA")
CC_MODES: tuple[CCMode, ...] = ("only0", "all", "if0all", "none")
