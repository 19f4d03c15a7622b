"""circleci-s3-wizard's engine: the tutorial's steps against AWS, with no user interface.

Nothing in this package imports Textual; the screens in ``screens/`` and the headless CLI both
drive the same step objects, so anything the wizard can do on screen a script can do too.
"""

__version__ = "0.1.0"
