"""Team mode: the browser screening pages (``casepool serve``), a front end like
``review/cli/``: routes call the library API (``review.api``), templates render, every page
has a JSON twin (``.json``). Nothing here speaks SQL or opens a database connection."""
