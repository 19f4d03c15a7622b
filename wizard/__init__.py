"""circleci-s3-wizard's engine: the tutorial's steps against AWS, with no user interface.

Nothing in this package imports Textual; the screens in ``screens/`` and the headless CLI both
drive the same step objects, so anything the wizard can do on screen a script can do too.
"""

if __name__ != "circleci_s3_wizard.wizard":
    # The checkout's root is on sys.path in development, so `import wizard` would find this
    # folder too and load a second copy of every module (two classes for every class).
    raise ImportError(f"import this folder as circleci_s3_wizard.wizard, not as {__name__}")

__version__ = "0.1.0"
