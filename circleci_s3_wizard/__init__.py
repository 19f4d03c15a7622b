"""circleci-s3-wizard, as one package: the engine, the screens and their assets.

The repository keeps the design's folders at its top (``wizard/``, ``screens/``, ``assets/``);
this folder links them under the one name the wheel ships, so an editable install, the wheel
and every static tool (mypy, import-linter) see the same modules under the same names.
"""
