"""Copying from the app: text as often as wanted, an access key's secret once per run.

Mixed into :class:`screens.app.WizardApp`. Copies run in thread workers (xclip can take a
moment); the secret is read from the keyring (or the engine's hand-over) only at the moment it is
copied, through the run's one :class:`~wizard.clipboard.CopyOnce` for that key id, and the
clipboard is wiped after :attr:`clear_after` seconds if it still holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .messages import ClipboardCleared, Job, SecretCopied, TextCopied

if TYPE_CHECKING:
    from textual.app import App
    from textual.worker import Worker

    from .run_state import RunState

    _TheApp = App[int]  # a mixin of the app: its methods (set_timer, run_worker) are the app's
else:
    _TheApp = object


def mechanism(clipboard: Any) -> str:
    """The mechanism a clipboard used (``xclip``, ``OSC 52 …``), for the screen."""
    return str(getattr(clipboard, "name", type(clipboard).__name__))


class ClipboardJobs(_TheApp):
    """The app's clipboard and the copy jobs."""

    state: RunState
    clear_after: float
    copy_notes: dict[str, str]
    _clipboard: Any

    if TYPE_CHECKING:  # the app's own
        def _worker(self, call: Callable[[], Any], name: str, *, description: str,
                    exclusive: bool = False) -> Worker[Any]: ...

    @property
    def clipboard_in_use(self) -> Any:
        """The clipboard: the one given, else the desktop's with OSC 52 as fallback."""
        if self._clipboard is None:
            from .clipboard_adapter import FallbackClipboard

            self._clipboard = FallbackClipboard(self)
        return self._clipboard

    def copy_text(self, text: str, what: str) -> None:
        """Copy ``text`` (not a secret); ``text_notes[what]`` then says how."""
        clipboard = self.clipboard_in_use

        def copy() -> TextCopied:
            clipboard.copy(text)
            return TextCopied(what, f"Copied {what} with {mechanism(clipboard)}.")

        self._worker(copy, f"{Job.COPY_TEXT}:{what}", description=f"copying {what}")

    def copy_secret(self, key_id: str) -> None:
        """Copy the secret of access key ``key_id``, once per run, then wipe it after a while."""
        from ..wizard.engine import Engine
        from ..wizard.errors import WizardError

        state, clipboard = self.state, self.clipboard_in_use
        ctx, handoff = state.ctx, state.handoff

        def secret() -> str:
            if handoff is not None and handoff.access_key_id == key_id:
                return handoff.secret_access_key
            key = Engine(ctx).stored_key() if ctx is not None else None
            if key is None or key.access_key_id != key_id:
                raise WizardError(f"The secret of access key {key_id} is not in your keyring.")
            found: str = key.secret_access_key
            return found

        guard = state.copy_once(key_id, secret)

        def copy() -> SecretCopied:
            guard.copy(clipboard)
            return SecretCopied(key_id, guard, clipboard)

        self._worker(copy, f"{Job.COPY}:{key_id}", description="copying the secret")

    def secret_copied(self, copied: SecretCopied) -> None:
        """Say how the secret was copied, and wipe it after :attr:`clear_after` seconds."""
        key_id, guard, clipboard = copied.key_id, copied.guard, copied.clipboard
        seconds = int(self.clear_after)
        self.copy_notes[key_id] = (f"The secret was copied once with {mechanism(clipboard)}; "
                                   f"it will be cleared from the clipboard in {seconds} s if "
                                   "it is still there.")
        self.set_timer(self.clear_after, lambda: self._clear(key_id, guard, clipboard))

    def _clear(self, key_id: str, guard: Any, clipboard: Any) -> None:
        self._worker(lambda: ClipboardCleared(key_id, guard.clear_if_unchanged(clipboard)),
                     f"{Job.CLEAR}:{key_id}", description="clearing the clipboard")
