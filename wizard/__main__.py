"""``python -m circleci_s3_wizard.wizard``: the same as the ``circleci-s3-wizard`` command."""

from .cli import run

run()
