"""Step 1: the bucket. Pick one of your buckets from the list, or name a new one to create."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Label, OptionList, RadioButton, RadioSet
from textual.widgets.option_list import Option

from screens.step_screen import StepScreen
from screens.validators import bucket_validator
from screens.widgets.field import Field
from wizard.context import RunContext
from wizard.errors import explain


class BucketScreen(StepScreen):
    KEY = "bucket"
    HELP = ("Use an existing bucket (the wizard checks you can reach it) or create one in the "
            "current region. Bucket names are global across every AWS account, so a new name "
            "may be taken. Dots in a name are allowed but break HTTPS to the bucket's "
            "virtual-hosted address, hence the warning.")

    def compose_inputs(self) -> ComposeResult:
        app = self.wizard
        if not app.config.bucket and app.identity is not None:
            # A name that is likely free and says what it is for; the operator can change it.
            app.config = app.config.with_changes(
                bucket=f"circleci-builds-{app.identity.account}", create_bucket=True)
        create = app.config.create_bucket
        with RadioSet(id="bucket-mode", compact=True):
            yield RadioButton("Use an existing bucket", value=not create, id="existing")
            yield RadioButton("Create a new bucket", value=create, id="create")
        yield Field("Bucket name", "bucket", app.config.bucket, bucket_validator())
        yield Label("Your buckets (Tab here, then Enter picks one):", classes="field-label")
        yield OptionList(Option("Loading your buckets…", disabled=True), id="buckets")

    def on_mount(self) -> None:
        super().on_mount()
        self._list_buckets(self.wizard.context())

    @work(thread=True, exclusive=True, group="list", exit_on_error=False,
          description="listing buckets")
    def _list_buckets(self, ctx: RunContext) -> None:
        try:
            names = [b["Name"] for b in ctx.client("s3").list_buckets().get("Buckets", [])]
        except Exception as exc:  # noqa: BLE001 - the operator can still type a name
            self._from_thread(self._show_buckets, [], str(explain(exc, "listing your buckets",
                                                                  "s3:ListAllMyBuckets")))
            return
        self._from_thread(self._show_buckets, names, None)

    def _show_buckets(self, names: list[str], error: str | None) -> None:
        if not self.is_attached:
            return
        options = self.query_one("#buckets", OptionList)
        options.clear_options()
        if error:
            options.add_option(Option(f"Could not list buckets: {error}", disabled=True))
        elif not names:
            options.add_option(Option("(no buckets yet: create one above)", disabled=True))
        else:
            options.add_options(Option(name, id=name) for name in names)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        name = event.option.id
        if not name:
            return
        self.query_one("#existing", RadioButton).value = True
        field = self.query_one(Field)
        field.input.value = name  # Input.Changed saves it and re-plans
        self.wizard.config = self.wizard.config.with_changes(create_bucket=False)
        field.input.focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.save(create_bucket=event.pressed.id == "create")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()

    def final_changes(self) -> dict[str, Any]:
        return {}
