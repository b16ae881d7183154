"""Team mode's accounts and sessions: who may log in to the screening pages, as which role."""
