"""The IAM OIDC identity provider for the CircleCI organisation (OIDC mode).

It needs the organisation's id: from CircleCI's API with a token, or from a slug of the form
``circleci/<organization-id>/<project-id>`` with none. The project slug is asked here, and the
token too when the wizard has none; the engine's plan says which is missing.
"""

from __future__ import annotations

from textual.app import ComposeResult

from ..wizard.model import Action
from .sign_in import SignsIn
from .step_screen import StepScreen
from .widgets.field import AnswerField
from .widgets.token_box import TokenBox


class OidcProviderScreen(SignsIn, StepScreen):
    KEY = "oidc_provider"
    HELP = ("Project slug: gh/org/repo, bb/org/repo, or circleci/<organization-id>/<project-id> "
            "(Organization Settings > Overview and Project Settings > Overview show both ids; "
            "that form needs no CircleCI token). Token: a CircleCI personal API token (User "
            "Settings > Personal API Tokens), kept in your OS keyring.")

    def compose_inputs(self) -> ComposeResult:
        yield AnswerField("circleci_projects", self.answer_text("circleci_projects"),
                          placeholder="gh/your-org/your-repo")

    def compose_details(self) -> ComposeResult:
        yield TokenBox()

    def token_wanted(self) -> bool:
        """Only when the engine cannot find the organisation's ids without one."""
        plan = self.state.plan(self.KEY)
        return plan is not None and plan.action is Action.BLOCKED

    def show_details(self) -> None:
        self.show_token_box()

    def action_run(self) -> None:
        if not self.sign_in_if_typed():
            super().action_run()

