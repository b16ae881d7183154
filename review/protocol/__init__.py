"""The protocol file: its model, loading with located errors, and its recorded versions."""
