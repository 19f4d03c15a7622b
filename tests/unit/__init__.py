"""Unit tests: pure functions and in-process commands; no AWS server, keyring or terminal."""
