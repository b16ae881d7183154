"""PubMed: date limits and windows, the E-utilities client (the only network code), the
EFetch XML parser, and the search use case that stores a run in the review."""
