"""What the app's background work answers, and what the app tells its pages.

Every engine call runs in a thread worker on the app and returns one of the answers below (a
:class:`textual.message.Message`, harlequin's pattern). The app's router
(:meth:`screens.app.WizardApp.on_worker_state_changed`) hands a finished worker's answer to the
app's ``on_<answer>`` handler at once (called, not posted), which records it in the
:class:`~screens.run_state.RunState` and posts it to the page on show, whose own ``on_<answer>``
handler shows it. A failed worker takes the
other way: the same router turns the error into a sentence and tells the page :class:`WorkFailed`.
A page only re-renders: it never inspects a worker or an exception.

Nothing here bubbles: the app hands each message to the page itself, and a page's message must
not come back up to the app that sent it (each class says ``bubble=False``; Textual's default for
a subclass is ``True`` again).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from textual.message import Message

if TYPE_CHECKING:
    from ..wizard.connect import Opened
    from ..wizard.context import RunContext
    from ..wizard.model import Plan, StepPlan, StepResult
    from ..wizard.verify import VerifyReport


class Job(StrEnum):
    """The app's background jobs; a worker is named ``job`` or ``job:key`` (a step key, a key
    id, what was copied)."""

    CONNECT = "connect"
    KEYRING = "keyring"
    PREFETCH = "prefetch"
    PLAN = "plan"
    APPLY = "apply"
    BUCKETS = "buckets"
    SIGN_IN = "sign_in"
    VERIFY = "verify"
    KEY_VIEW = "key_view"
    COPY = "copy"
    COPY_TEXT = "copy_text"
    CLEAR = "clear"
    CONFIG_FILE = "config_file"
    NEXT_STEPS = "next_steps"


@dataclass(frozen=True, slots=True)
class Said:
    """What the engine gave for a view (``value``), or the sentence it refused with."""

    value: Any
    problem: str | None


#: The jobs whose answer is the engine's words for a view (:class:`WordsReady`).
WordsJob = Literal[Job.CONFIG_FILE, Job.NEXT_STEPS]


class Answer(Message, bubble=False):
    """What one background job gave back.

    Every subclass says ``bubble=False`` again: Textual's ``Message.__init_subclass__`` sets
    ``bubble=True`` unless told otherwise, so an answer handed to a page would otherwise bubble
    back up to the app, be recorded again and handed to the page again, for ever.
    """


class Connected(Answer, bubble=False):
    """The run is open: its context and sandbox, and a bucket name to suggest (or None)."""

    def __init__(self, opened: Opened, suggestion: str | None) -> None:
        super().__init__()
        self.opened = opened
        self.suggestion = suggestion


class KeyringChecked(Answer, bubble=False):
    """Why the keyring cannot hold the secret (``problem``), or None, as checked with ``ctx``."""

    def __init__(self, ctx: RunContext, problem: str | None) -> None:
        super().__init__()
        self.ctx = ctx
        self.problem = problem


class PlansFetched(Answer, bubble=False):
    """Every step's plan at once, made with ``ctx`` in ``epoch``."""

    def __init__(self, ctx: RunContext, epoch: int, plan: Plan) -> None:
        super().__init__()
        self.ctx = ctx
        self.epoch = epoch
        self.plan = plan


class PlanReady(Answer, bubble=False):
    """One step's plan, made with ``ctx`` in ``epoch`` (a page asked for it)."""

    def __init__(self, ctx: RunContext, epoch: int, plan: StepPlan) -> None:
        super().__init__()
        self.ctx = ctx
        self.epoch = epoch
        self.plan = plan

    @property
    def key(self) -> str:
        return self.plan.key


class StepApplied(Answer, bubble=False):
    """A step ran with ``ctx``; ``result`` is what it did."""

    def __init__(self, ctx: RunContext, result: StepResult) -> None:
        super().__init__()
        self.ctx = ctx
        self.result = result

    @property
    def key(self) -> str:
        return self.result.key


class BucketsListed(Answer, bubble=False):
    """The buckets the operator can see, to pick one from."""

    def __init__(self, ctx: RunContext, names: list[str]) -> None:
        super().__init__()
        self.ctx = ctx
        self.names = names


class SignedIn(Answer, bubble=False):
    """A pasted CircleCI token worked (as ``login``) and is in the keyring; ``client`` uses it."""

    def __init__(self, client: Any, login: str) -> None:
        super().__init__()
        self.client = client
        self.login = login


class Verified(Answer, bubble=False):
    """What the verification with ``ctx`` proved."""

    def __init__(self, ctx: RunContext, report: VerifyReport) -> None:
        super().__init__()
        self.ctx = ctx
        self.report = report


class WordsReady(Answer, bubble=False):
    """The engine's words for a view (the config.yml, the Done page's list), made with ``ctx``
    in ``epoch``."""

    def __init__(self, job: WordsJob, ctx: RunContext, epoch: int, said: Said) -> None:
        super().__init__()
        self.job: WordsJob = job
        self.ctx = ctx
        self.epoch = epoch
        self.said = said


class KeyViewed(Answer, bubble=False):
    """The last four characters of access key ``key_id``'s kept secret, or None if not kept."""

    def __init__(self, key_id: str, last_four: str | None) -> None:
        super().__init__()
        self.key_id = key_id
        self.last_four = last_four


class SecretCopied(Answer, bubble=False):
    """Access key ``key_id``'s secret is on ``clipboard``; ``guard`` wipes it from there."""

    def __init__(self, key_id: str, guard: Any, clipboard: Any) -> None:
        super().__init__()
        self.key_id = key_id
        self.guard = guard
        self.clipboard = clipboard


class ClipboardCleared(Answer, bubble=False):
    """The wipe of ``key_id``'s secret ran; ``cleared``: the clipboard still held it, and now
    does not."""

    def __init__(self, key_id: str, cleared: bool) -> None:
        super().__init__()
        self.key_id = key_id
        self.cleared = cleared


class TextCopied(Answer, bubble=False):
    """Text (not a secret) named ``what`` was copied; ``note`` says how."""

    def __init__(self, what: str, note: str) -> None:
        super().__init__()
        self.what = what
        self.note = note


class WorkFailed(Message, bubble=False):
    """Job ``job`` for ``key`` (or None) failed; ``sentence`` says what and what to do."""

    def __init__(self, job: Job, key: str | None, sentence: str) -> None:
        super().__init__()
        self.job = job
        self.key = key
        self.sentence = sentence


class RunChanged(Message, bubble=False):
    """Plans, results, the connection or the clipboard changed: show them again."""


class AwsWaiting(Message, bubble=False):
    """A step's call waits for AWS to show what the run just made (``sentence`` says what).

    Posted from the step's thread (posting is thread-safe; the app is never blocked on it)."""

    def __init__(self, sentence: str) -> None:
        super().__init__()
        self.sentence = sentence
