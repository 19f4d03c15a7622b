"""``python -m wizard``: the same as the ``circleci-s3-wizard`` command."""

from wizard.cli import run

run()
