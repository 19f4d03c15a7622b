"""``python -m wizard``: the same as the ``circleci-s3-wizard`` command."""

import sys

from wizard.cli import main

sys.exit(main())
