"""One module per schema revision, oldest first; each is history and never edited."""
