"""TUI tests: the Textual app driven with Pilot against moto, and its snapshots."""
