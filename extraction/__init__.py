"""casepool extraction: forms, validation, case tables, appraisal."""
