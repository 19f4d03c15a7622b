"""The bucket: one of yours from the list, or a new one (the suggested name, or your own).

The list comes from the engine (``list_buckets``, in a worker) each time the page is shown, so a
bucket made a moment ago is in it. Moving through the choice or picking from the list only
changes the answers; the engine says on the plan what that means.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Label, OptionList, RadioSet
from textual.widgets.option_list import Option

from .messages import BucketsListed, Job
from .step_screen import StepScreen
from .widgets.choice import Choice, ChoiceSet
from .widgets.field import AnswerField


class BucketScreen(StepScreen):
    KEY = "bucket"
    HELP = ("Use one of your buckets (the wizard checks that you can reach it) or create one in "
            "the current region. Bucket names are global across every AWS account, so a new "
            "name may be taken. Dots in a name are allowed but break HTTPS to the bucket's "
            "virtual-hosted address, hence the warning. In the list of your buckets, Enter "
            "picks the highlighted one.")

    def compose_inputs(self) -> ComposeResult:
        create = bool(self.state.answers.get("create_bucket"))
        with ChoiceSet(id="bucket-mode", compact=True):
            yield Choice("Use an existing bucket", not create, id="existing")
            yield Choice("Create a new bucket", create, id="create")
        yield AnswerField("bucket", self.answer_text("bucket"))
        yield Label("Your buckets (Tab here; Enter picks one):", id="buckets-label",
                    classes="field-label")
        yield OptionList(Option("Loading your buckets…", disabled=True), id="buckets")

    def mounted(self) -> None:
        super().mounted()
        self.query_one("#buckets", OptionList).can_focus = False
        self.wizard.list_buckets()

    def on_buckets_listed(self, answer: BucketsListed) -> None:
        self._show_buckets(list(answer.names), None)

    def work_failed(self, job: Job, key: str | None, sentence: str) -> None:
        if job is Job.BUCKETS:
            self._show_buckets([], sentence)
        else:
            super().work_failed(job, key, sentence)

    def _show_buckets(self, names: list[str], error: str | None) -> None:
        options = self.query_one("#buckets", OptionList)
        options.clear_options()
        if error:
            options.add_option(Option(f"Could not list your buckets: {error}", disabled=True))
        elif names:
            options.add_options(Option(name, id=name) for name in names)
        label = self.query_one("#buckets-label", Label)
        label.display = options.display = bool(names) or error is not None
        options.can_focus = bool(names)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(event.option.id)

    def _pick(self, name: str | None) -> None:
        if not name:
            return
        self.query_one("#existing", Choice).value = True
        field = self.query_one(AnswerField)
        field.input.value = name  # its Changed event keeps the answer
        self.save("create_bucket", False)
        field.input.focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.save("create_bucket", event.pressed.id == "create")

    def action_run(self) -> None:
        options = self.query_one("#buckets", OptionList)
        if self.focused is options and options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self._pick(option.id)
            return
        super().action_run()
