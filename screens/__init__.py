"""circleci-s3-wizard's Textual screens: they ask the engine (``wizard/``) and show its answers."""

if __name__ != "circleci_s3_wizard.screens":
    # The checkout's root is on sys.path in development, so `import screens` would find this
    # folder too and load a second copy of every module (two classes for every class).
    raise ImportError(f"import this folder as circleci_s3_wizard.screens, not as {__name__}")
