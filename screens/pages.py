"""The screen class of each registry page, found by the page's key and imported when first shown.

Page ``bucket`` is shown by the :class:`~screens.page.PageScreen` subclass in
``screens/bucket_screen.py`` whose ``KEY`` is ``"bucket"``. A registry step with no module of its
own (one that asks nothing, like attaching the policy) gets the plain
:class:`~screens.step_screen.StepScreen`, so a new step in the registry has a page without any
edit here. Importing lazily keeps every page module out of the first frame.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

from ..wizard.registry import PAGES

if TYPE_CHECKING:
    from .page import PageScreen


def module_name(key: str) -> str:
    """The full name of page ``key``'s module, wherever this package is installed."""
    return f"{__package__}.{key}_screen"


@cache
def page_screen(key: str) -> type[PageScreen]:
    """The screen class for page ``key`` of :data:`wizard.registry.PAGES`."""
    from .page import PageScreen

    page = next(p for p in PAGES if p.key == key)
    try:
        module = import_module(module_name(key))
    except ModuleNotFoundError as missing:
        if missing.name != module_name(key) or page.step is None:
            raise
        from .step_screen import StepScreen

        return type(f"{key.title().replace('_', '')}Screen", (StepScreen,),
                    {"KEY": key, "__module__": StepScreen.__module__})
    return next(cls for cls in vars(module).values()
                if isinstance(cls, type) and issubclass(cls, PageScreen)
                and cls.__module__ == module.__name__ and key == cls.KEY)
