"""Which screen class shows which page (kept apart so app.py imports the pages lazily)."""

from __future__ import annotations

from screens.access_key_screen import AccessKeyScreen
from screens.attach_screen import AttachScreen
from screens.bucket_screen import BucketScreen
from screens.circleci_screen import CircleCIScreen
from screens.done_screen import DoneScreen
from screens.folder_screen import FolderScreen
from screens.group_screen import GroupScreen
from screens.page import PageScreen
from screens.policy_screen import PolicyScreen
from screens.user_screen import UserScreen
from screens.verify_screen import VerifyScreen
from screens.welcome_screen import WelcomeScreen

PAGE_SCREENS: dict[str, type[PageScreen]] = {
    "welcome": WelcomeScreen,
    "bucket": BucketScreen,
    "folder": FolderScreen,
    "group": GroupScreen,
    "policy": PolicyScreen,
    "attach": AttachScreen,
    "user": UserScreen,
    "access_key": AccessKeyScreen,
    "circleci": CircleCIScreen,
    "verify": VerifyScreen,
    "done": DoneScreen,
}
