"""Editable installs of the namespaced package: ``circleci_s3_wizard`` resolves to this checkout.

The wheel ships ``wizard/``, ``screens/`` and ``assets/`` as ``circleci_s3_wizard.wizard``,
``.screens`` and ``.assets`` (see ``[tool.hatch.build.targets.wheel.sources]``). Hatch's editable
mode cannot add such a prefix, so for an editable build this hook adds one small file, the
package's ``__init__.py``, whose ``__path__`` is this checkout: the code is imported from here,
under the same names as from the wheel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class NamespaceHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version != "editable":
            return
        init = Path(self.directory) / "_circleci_s3_wizard_editable_init.py"
        init.write_text(f'"""This checkout, as the package."""\n__path__ = [{self.root!r}]\n',
                        encoding="utf-8")
        build_data["force_include"][str(init)] = "circleci_s3_wizard/__init__.py"
