"""The by-hand advice in each view's words: the CLI says how to let `apply` deliver the values
itself (CIRCLE_TOKEN), the TUI says where on screen (the CircleCI page's project slug and token
box). The values and where to paste them are the same in both."""

from __future__ import annotations

from circleci_s3_wizard.wizard.model import Action, StepResult
from circleci_s3_wizard.wizard.next_steps import by_hand, next_steps

SLUG = "gh/acme/site"


def test_without_a_token_each_view_says_how_to_let_the_wizard_deliver(make_ctx) -> None:
    ctx = make_ctx(circleci_project=SLUG)
    cli = by_hand(ctx, {})
    screen = by_hand(ctx, {}, secret_from="screen", sign_in_from="screen")
    assert cli is not None and screen is not None
    assert cli.text == ("Give CircleCI its values by hand (no CircleCI token was available; or "
                        "set CIRCLE_TOKEN and run apply again):")
    assert screen.text == ("Give CircleCI its values by hand (no CircleCI token was available; "
                           "or sign in with a CircleCI token on the CircleCI page, and the "
                           "wizard sets them):")
    assert cli.lines[0] == screen.lines[0]  # where to paste: the same words in both views
    assert "CIRCLE_TOKEN" not in " ".join((screen.text, *screen.lines))


def test_without_a_project_the_screen_asks_for_the_slug(make_ctx) -> None:
    ctx = make_ctx()
    screen = by_hand(ctx, {}, secret_from="screen", sign_in_from="screen")
    assert screen is not None
    assert screen.text.startswith("Give CircleCI its values by hand (no CircleCI project was "
                                  "given; or type the project slug on the CircleCI page")


def test_next_steps_passes_the_wording_on_and_delivered_values_need_no_advice(make_ctx) -> None:
    ctx = make_ctx(circleci_project=SLUG)
    steps = next_steps(ctx, {}, secret_from="screen", sign_in_from="screen")
    assert "on the CircleCI page" in steps[0].text
    delivered = {"circleci": StepResult("circleci", Action.CREATE, "Set them.", title="CircleCI")}
    assert by_hand(ctx, delivered, sign_in_from="screen") is None
    assert not any("by hand" in s.text for s in next_steps(ctx, delivered))
