"""What a page that shows an access key does with ctrl+k and ctrl+s (Access key, CircleCI, Done).

One set of copy keys on every page, one copy of the secret per run: the guard lives in the run's
state, so copying it on one page uses it up on the others, and every page then says what became
of it on the clipboard ("will be cleared in 30 s", then "cleared").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .widgets.secret_copy import SecretCopy

if TYPE_CHECKING:
    from .app import WizardApp


class CopiesKey:
    """Mixed into a :class:`~screens.page.PageScreen` whose ``shown_key_id()`` names the key."""

    wizard: WizardApp

    def shown_key_id(self) -> str | None:
        raise NotImplementedError

    def copy_check(self, action: str) -> bool | None:
        """``check_action`` for the copy actions (None: not a copy action)."""
        key_id = self.shown_key_id()
        if action == "copy_key_id":
            return key_id is not None
        if action == "copy_secret":
            return key_id is not None and not self.wizard.state.copied(key_id)
        return None

    def action_copy_key_id(self) -> None:
        key_id = self.shown_key_id()
        if key_id:
            self.wizard.copy_text(key_id, f"access key id {key_id}")

    def action_copy_secret(self) -> None:
        key_id = self.shown_key_id()
        if key_id and not self.wizard.state.copied(key_id):
            self.wizard.copy_secret(key_id)

    def show_key(self, box: SecretCopy) -> None:
        """Fill ``box`` for the shown key (hidden when there is none)."""
        app, key_id = self.wizard, self.shown_key_id()
        box.display = key_id is not None
        if key_id is None:
            return
        app.view_key(key_id)
        handoff = app.state.handoff
        held = handoff is not None and handoff.access_key_id == key_id
        where = "NOT in your keyring: take it now" if held else "kept in your OS keyring"
        copied = app.state.copied(key_id)
        note = app.copy_notes.get(key_id) or (
            "ctrl+s copies the secret once (the clipboard is cleared after "
            f"{int(app.clear_after)} s); ctrl+k copies the key id." if not copied else "")
        id_note = app.text_notes.get(f"access key id {key_id}")
        note = f"{id_note}\n{note}" if id_note else note
        box.show(key_id, app.key_views.get(key_id), where, can_copy=not copied, note=note)
