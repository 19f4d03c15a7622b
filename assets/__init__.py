"""The wizard's stylesheets, shipped in the wheel and found beside this file."""

if __name__ != "circleci_s3_wizard.assets":
    # The checkout's root is on sys.path in development, so `import assets` would find this
    # folder too and load a second copy of every module (two classes for every class).
    raise ImportError(f"import this folder as circleci_s3_wizard.assets, not as {__name__}")
