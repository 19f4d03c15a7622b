"""Which screen class shows which page, each imported when its page is first shown.

Importing every page up front would put them all before the first frame (the CircleCI and policy
pages alone pull in rich's syntax highlighter); the Welcome page needs none of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from screens.page import PageScreen

#: page key -> (module, class)
PAGE_SCREENS: dict[str, tuple[str, str]] = {
    "welcome": ("screens.welcome_screen", "WelcomeScreen"),
    "bucket": ("screens.bucket_screen", "BucketScreen"),
    "folder": ("screens.folder_screen", "FolderScreen"),
    "group": ("screens.group_screen", "GroupScreen"),
    "policy": ("screens.policy_screen", "PolicyScreen"),
    "attach": ("screens.attach_screen", "AttachScreen"),
    "user": ("screens.user_screen", "UserScreen"),
    "access_key": ("screens.access_key_screen", "AccessKeyScreen"),
    "circleci": ("screens.circleci_screen", "CircleCIScreen"),
    "verify": ("screens.verify_screen", "VerifyScreen"),
    "done": ("screens.done_screen", "DoneScreen"),
}


def page_screen(key: str) -> type[PageScreen]:
    """The screen class for page ``key``."""
    module, name = PAGE_SCREENS[key]
    return getattr(import_module(module), name)
