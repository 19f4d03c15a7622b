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
from tests.tui.support import MemoryClipboard, MemoryStore, connected, wait_for

ROOT = Path(__file__).resolve().parents[2]
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


def _textual_private_names() -> set[str]:
    """Every private name (``_x``, not dunder) of Textual's app, screens, widgets and messages,
    read from Textual itself: a screen that defines or touches one leans on an internal that an
    upgrade may rename or change, silently."""
    import inspect

    import textual.widgets
    from textual.app import App
    from textual.message import Message
    from textual.screen import ModalScreen, Screen
    from textual.widget import Widget

    classes: set[type] = {App, Screen, ModalScreen, Widget, Message}
    for name in textual.widgets.__all__:
        widget = getattr(textual.widgets, name)
        if inspect.isclass(widget):
            classes.add(widget)
    names: set[str] = set()
    for cls in classes:
        for klass in cls.__mro__:
            if klass.__module__.startswith("textual"):
                names.update(n for n in vars(klass)
                             if n.startswith("_") and not n.startswith("__"))
    return names


#: Private hooks the app overrides on purpose, each for a reason Textual has no public way to
#: meet. ``_fatal_error``: Textual's crash report renders every frame's local variables, and a
#: frame may hold the secret; the override reports through the public ``panic`` without them.
ALLOWED_OVERRIDES = {"_fatal_error"}


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("circleci_s3_wizard", *[p for p in parts if p != "__init__"]))


def _own_names(paths: list[Path]) -> set[str]:
    """The private names our screens define themselves (methods, attributes set on self)."""
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id == "self"):
                names.add(node.attr)
            elif isinstance(node, (ast.AnnAssign, ast.Assign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def test_no_screen_overrides_a_textual_private_method() -> None:
    """Each class of ours that subclasses Textual's defines no private name Textual has, except
    the overrides allowed above (checked on the classes themselves, so a new one cannot hide)."""
    import inspect

    private = _textual_private_names()
    assert len(private) > 100, "Textual's private names were not found"
    checked = 0
    for path in SCREENS:
        module = importlib.import_module(_module_of(path))
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == module.__name__):
                continue
            if not any(k.__module__.startswith("textual") for k in cls.__mro__):
                continue
            checked += 1
            # methods only: Textual's own class machinery sets private data on every subclass
            overrides = {n for n, v in vars(cls).items() if n in private and (
                inspect.isfunction(v) or isinstance(v, (property, staticmethod, classmethod)))}
            overrides -= ALLOWED_OVERRIDES
            assert not overrides, f"{cls.__name__} overrides Textual's private {overrides}"
    assert checked > 20, checked


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.name)
def test_no_screen_touches_a_textual_private_internal(path: Path) -> None:
    """No attribute or name string of Textual's private set, unless it is a name of our own."""
    foreign = _textual_private_names() - _own_names(SCREENS)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in foreign, f"{path.name}:{node.lineno} uses {node.attr}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value not in foreign, f"{path.name}:{node.lineno} names {node.value}"


def test_the_crash_report_override_still_replaces_textuals_own() -> None:
    """``_fatal_error`` is still a method of Textual's App and Textual still calls it on a crash:
    if an upgrade renamed it, the override would go dead and crash reports would show locals
    (and a secret with them) again, with nothing else failing."""
    import inspect

    import textual.app
    from textual.app import App

    from circleci_s3_wizard.screens.app import WizardApp

    assert callable(getattr(App, "_fatal_error", None))
    assert "self._fatal_error()" in inspect.getsource(textual.app)
    assert WizardApp._fatal_error is not App._fatal_error


def test_every_answer_is_handled_by_the_app_and_never_bubbles() -> None:
    """The app hands each answer to the page itself; an answer that bubbled back up would be
    recorded again and re-sent for ever (Textual's ``Message.__init_subclass__`` turns
    ``bubble`` back on for a subclass that does not say otherwise)."""
    from textual.message import Message

    from circleci_s3_wizard.screens import messages
    from circleci_s3_wizard.screens.app import WizardApp

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(c) for c in found))

    answers = subclasses(messages.Answer)
    assert len(answers) >= 10
    for answer in answers:
        assert answer.bubble is False, f"{answer.__name__} bubbles"
        handler = getattr(WizardApp, answer.handler_name, None)
        assert callable(handler), f"the app has no {answer.handler_name} for {answer.__name__}"
    told = [m for m in vars(messages).values()
            if isinstance(m, type) and issubclass(m, Message) and m.__module__ == messages.__name__]
    for message in told:
        assert message.bubble is False, f"{message.__name__} bubbles back to the app"


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
