"""End-to-end tests: the installed command as a process (CLI, tmux, the wheel), under faults."""
