"""``python -m circleci_s3_wizard``: the same as the ``circleci-s3-wizard`` command."""

from .launch import run

run()
