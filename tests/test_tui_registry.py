"""The registry is the TUI's only list of steps, and the screens only show what the engine says.

A page class, a title or a list of steps written in ``screens/`` fails here, as does an import
of boto3, botocore or the CircleCI client, a binding without an id or a tooltip, or a reach into
Textual's private internals. Checked on the source (every import, even inside a function) and in
fresh interpreters (what importing a screen really loads).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding

from circleci_s3_wizard.screens.page import PageScreen
from circleci_s3_wizard.screens.pages import page_screen
from circleci_s3_wizard.wizard.config import AuthMode, SetupConfig
from circleci_s3_wizard.wizard.registry import PAGES, STEPS, pages_for
from tests.tui_support import MemoryClipboard, MemoryStore, connected, wait_for

ROOT = Path(__file__).resolve().parents[1]
SCREENS = sorted((ROOT / "screens").rglob("*.py"))
SCREEN_MODULES = ["circleci_s3_wizard." + ".".join(p.relative_to(ROOT).with_suffix("").parts)
                  for p in SCREENS
                  if p.name != "__init__.py"]
#: Screen modules that are not a page: the two dialogs, and the base of every step page.
NOT_PAGES = {f"circleci_s3_wizard.screens.{name}"
             for name in ("confirm_screen", "help_screen", "step_screen")}


def page_classes() -> dict[str, type[PageScreen]]:
    """Every page class defined in ``screens/``, by module."""
    found: dict[str, type[PageScreen]] = {}
    for name in SCREEN_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, PageScreen) and \
                    value.__module__ == name and value.KEY:
                found[f"{name}.{value.__name__}"] = value
    return found


def test_every_page_is_a_registry_page_and_every_registry_page_has_one() -> None:
    keys = {p.key for p in PAGES}
    classes = page_classes()
    assert classes, "no page classes found"
    for where, cls in classes.items():
        assert cls.KEY in keys, f"{where} shows page {cls.KEY!r}, which the registry lacks"
        assert f"circleci_s3_wizard.screens.{cls.KEY}_screen" == cls.__module__, where
    for page in PAGES:
        assert page.key == page_screen(page.key).KEY


def test_screen_modules_are_named_after_registry_pages() -> None:
    pages = {f"circleci_s3_wizard.screens.{p.key}_screen" for p in PAGES}
    for name in SCREEN_MODULES:
        if name.endswith("_screen") and name not in NOT_PAGES:
            assert name in pages, f"{name} is a page module for no registry page"


def _constants(path: Path) -> list[tuple[int, Any]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant)]


def _sequences(path: Path) -> list[tuple[int, list[Any]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            found.append((node.lineno, [e.value for e in node.elts
                                        if isinstance(e, ast.Constant)]))
    return found


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.name)
def test_no_title_and_no_list_of_steps_is_written_in_a_screen(path: Path) -> None:
    titles = {p.title for p in PAGES}
    step_keys = {s.key for s in STEPS}
    for line, value in _constants(path):
        assert value not in titles, f"{path.name}:{line} writes the title {value!r} itself"
    for line, values in _sequences(path):
        keys = [v for v in values if v in step_keys]
        assert len(keys) < 2, f"{path.name}:{line} lists steps itself: {keys}"


FORBIDDEN_IMPORTS = ("boto3", "botocore", "circleci_s3_wizard.wizard.circleci.client", "httpx")


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.name)
def test_a_screen_imports_no_aws_or_circleci_client_anywhere(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            assert not name.startswith(FORBIDDEN_IMPORTS), f"{path.name}:{node.lineno} {name}"


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join("
                          "sys.modules))"], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout
    return set(out.split())


def test_importing_every_screen_loads_no_aws_sdk_nor_circleci_client() -> None:
    loaded = _loaded_after("\n".join(f"import {m}" for m in SCREEN_MODULES))
    client = "circleci_s3_wizard.wizard.circleci.client"
    for heavy in ("boto3", "botocore", "moto", client, "httpx"):
        assert heavy not in loaded, heavy


def test_the_first_frame_needs_no_aws_sdk_nor_keyring() -> None:
    """What the Welcome page needs to paint is light; boto3 and the keyring come after."""
    loaded = _loaded_after("\n".join(
        f"import circleci_s3_wizard.screens.{name}" for name in ("app", "welcome_screen", "pages")))
    for heavy in ("boto3", "botocore", "moto", "keyring"):
        assert heavy not in loaded, heavy


def _all_bindings() -> list[tuple[str, Binding]]:
    from circleci_s3_wizard.screens.app import WizardApp
    from circleci_s3_wizard.screens.confirm_screen import ConfirmScreen
    from circleci_s3_wizard.screens.help_screen import HelpScreen
    from circleci_s3_wizard.screens.widgets.choice import ChoiceSet

    owners: list[type] = [WizardApp, ConfirmScreen, HelpScreen, ChoiceSet, PageScreen,
                          *page_classes().values()]
    return [(owner.__name__, b) for owner in owners for b in owner.__dict__.get("BINDINGS", [])
            if isinstance(b, Binding)]


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    bindings = _all_bindings()
    assert bindings
    for owner, binding in bindings:
        assert binding.id, f"{owner}: {binding.key} has no id"
        assert binding.tooltip, f"{owner}: {binding.key} has no tooltip"


def test_the_copy_keys_are_the_same_on_every_page() -> None:
    copies = {(b.action, b.key) for _, b in _all_bindings() if b.action.startswith("copy_")}
    actions = [a for a, _ in copies]
    assert sorted(set(actions)) == sorted(actions), f"one action, two keys: {copies}"


PRIVATE = ("_exit_renderables", "_close_messages_no_wait", "_thread_id", "_handle_exception",
           "_selected", "_nodes")


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.name)
def test_no_textual_private_internals(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in PRIVATE, f"{path.name}:{node.lineno} uses {node.attr}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value not in PRIVATE, f"{path.name}:{node.lineno} names {node.value}"


def test_no_test_hooks_ship_in_the_app() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in SCREENS)
    for hook in ("stable_ids", "FIRST_FRAME", "first_frame", "PYTEST", "pytest"):
        assert hook not in source, hook


@pytest.mark.parametrize("auth", list(AuthMode))
async def test_the_palette_offers_each_page_of_the_mode_once_and_one_quit(
        aws_session: Any, auth: AuthMode) -> None:
    from textual.command import CommandPalette

    from circleci_s3_wizard.screens.app import make_app

    config = SetupConfig(auth=auth, circleci_projects=("gh/acme/site",))
    app = make_app(config, session=aws_session, secret_store=MemoryStore(),
                   clipboard=MemoryClipboard())
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        palette = app.screen
        await wait_for(pilot, lambda: palette.query("CommandList").first().option_count > 5,
                       what="the commands")
        options = palette.query("CommandList").first()
        prompts = [str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)]
        text = "\n".join(prompts)
        gone_to = [p for p in prompts if "Go to:" in p]
        expected = [f"Go to: {p.title}" for p in pages_for(config)]
        got = [g.splitlines()[0].strip() for g in gone_to]
        assert got == expected, f"{got} != {expected}"
        assert sum(1 for p in prompts if p.splitlines()[0].strip() == "Quit") == 1, text
