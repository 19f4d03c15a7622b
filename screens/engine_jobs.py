"""The engine's work, each call in a thread worker on the app: plan, apply, read, sign in, verify.

Mixed into :class:`screens.app.WizardApp`. Every method only starts a worker, named ``job`` or
``job:step-key``, whose return value is its typed answer (:mod:`screens.messages`), carrying the
:class:`~wizard.context.RunContext` (and the epoch) it was made with; the app records it, or drops
it when the answers changed since.
No method here decides anything: each is one call of the engine's public API. Words the engine
computes from AWS (the config.yml, the Done page's list) come back the same way and are kept per
run state (:meth:`EngineJobs.said`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..wizard.model import StepPlan
from .messages import (
    BucketsListed,
    Job,
    KeyringChecked,
    KeyViewed,
    PlanReady,
    PlansFetched,
    Said,
    SignedIn,
    StepApplied,
    Verified,
    WordsJob,
    WordsReady,
)

if TYPE_CHECKING:
    from textual.worker import Worker

    from .run_state import RunState


class EngineJobs:
    """The background calls a page can ask the app for."""

    state: RunState
    #: job -> ((context, epoch) it was made for, what it said)
    _said: dict[WordsJob, tuple[Any, Said]]
    key_views: dict[str, str]

    if TYPE_CHECKING:  # the app's own
        def _worker(self, call: Callable[[], Any], name: str, *, description: str,
                    exclusive: bool = False) -> Worker[Any]: ...

        def _once(self, name: str, ctx: Any, *, again: bool = False) -> bool: ...

    def check_keyring(self) -> None:
        """Keys mode: can the keyring hold the secret? Asked before any step runs."""
        ctx = self.state.ctx
        if ctx is None or not self.state.flow_config.keys:
            return
        from ..wizard.engine import Engine

        self._worker(lambda: KeyringChecked(ctx, Engine(ctx).keyring_problem()), Job.KEYRING,
                     description="checking the OS keyring", exclusive=True)

    def prefetch(self) -> None:
        """Every step's plan at once (one round of reads), for pages to show on arrival."""
        state = self.state
        ctx, epoch = state.ctx, state.epoch
        if ctx is None or state.config is None or not self._once(Job.PREFETCH, ctx):
            return
        from ..wizard.engine import Engine

        self._worker(lambda: PlansFetched(ctx, epoch, Engine(ctx).plan()), Job.PREFETCH,
                     description="checking what already exists")

    def plan_step(self, key: str, *, again: bool = False) -> None:
        """One step's plan (it reuses every read the prefetch already made); ``again`` even if
        it just failed (the operator asked)."""
        state = self.state
        ctx, epoch = state.ctx, state.epoch
        if ctx is None or state.config is None or \
                not self._once(f"{Job.PLAN}:{key}", ctx, again=again):
            return
        from ..wizard.engine import Engine
        from ..wizard.registry import info

        self._worker(lambda: PlanReady(ctx, epoch, Engine(ctx).plan_step(key)), f"{Job.PLAN}:{key}",
                     description=f"checking what exists for {info(key).title}")

    def apply_step(self, plan: StepPlan, *, consent: bool) -> None:
        """Run one step's plan under the run lock (another run holding it is a sentence)."""
        ctx = self.state.ctx
        if ctx is None:
            return
        from ..wizard.engine import Engine

        def run() -> StepApplied:
            engine = Engine(ctx)
            with engine.lock(command="circleci-s3-wizard (terminal UI)", wait=0):
                return StepApplied(ctx, engine.apply_step(plan, consent=consent))

        self._worker(run, f"{Job.APPLY}:{plan.key}", description=f"running {plan.title}")

    def list_buckets(self) -> None:
        ctx = self.state.ctx
        if ctx is None:
            return
        from ..wizard.engine import Engine

        self._worker(lambda: BucketsListed(ctx, Engine(ctx).buckets()), Job.BUCKETS,
                     description="listing your buckets", exclusive=True)

    def sign_in(self, token: str) -> None:
        """Check a pasted CircleCI token with CircleCI and keep it in the keyring."""
        ctx = self.state.ctx
        if ctx is None:
            return
        from ..wizard.connect import sign_in_circleci

        self._worker(lambda: SignedIn(*sign_in_circleci(token, ctx.secrets)), Job.SIGN_IN,
                     description="checking the CircleCI token", exclusive=True)

    def verify(self) -> None:
        ctx = self.state.ctx
        if ctx is None:
            return
        from ..wizard.verify import verify

        self._worker(lambda: Verified(ctx, verify(ctx)), Job.VERIFY,
                     description="verifying the setup",
                     exclusive=True)

    def said(self, name: WordsJob) -> Said | None:
        """What job ``name`` (``config_file``, ``next_steps``) gave for the run as it is now
        (same answers, no step run since), or None: then :meth:`config_file` or
        :meth:`next_steps` asks for it."""
        marker, value = self._said.get(name, (None, None))
        return value if marker == (self.state.ctx, self.state.epoch) else None

    def _say(self, name: WordsJob, make: Callable[[Any], Any], description: str) -> None:
        """Compute the engine's words ``make(ctx)`` off the UI thread, once per run state.

        A ``ValueError`` is the engine refusing the answers (a session longer than the role
        allows): its sentence is what there is to show, so it comes back as the value.
        """
        state = self.state
        ctx, epoch = state.ctx, state.epoch
        if ctx is None or state.config is None or self.said(name) is not None or \
                not self._once(name, ctx):
            return

        def run() -> WordsReady:
            try:
                return WordsReady(name, ctx, epoch, Said(make(ctx), None))
            except ValueError as refused:
                return WordsReady(name, ctx, epoch, Said(None, str(refused)))

        self._worker(run, name, description=description)

    def config_file(self) -> None:
        """The ``.circleci/config.yml`` in the engine's words (``next_steps.config_file``: with
        OIDC it reads the role's MaxSessionDuration, so it runs in a worker)."""
        from ..wizard.next_steps import config_file

        role = self.state.outputs().get("role_arn")
        self._say(Job.CONFIG_FILE, lambda ctx: config_file(ctx, role),
                  "writing the config.yml")

    def next_steps(self) -> None:
        """The Done page's list, worded for the screen (it includes the config.yml)."""
        from ..wizard.next_steps import next_steps

        results = self.state.known_results()
        self._say(Job.NEXT_STEPS, lambda ctx: next_steps(ctx, results, secret_from="screen",
                                                       sign_in_from="screen"),
                  "working out what is left to do")

    def view_key(self, key_id: str) -> None:
        """Read the last four characters of the kept secret of ``key_id`` (for the mask)."""
        ctx, handoff = self.state.ctx, self.state.handoff
        if ctx is None or key_id in self.key_views:
            return
        from ..wizard.engine import Engine

        def read() -> KeyViewed:
            if handoff is not None and handoff.access_key_id == key_id:
                return KeyViewed(key_id, handoff.secret_access_key[-4:])
            key = Engine(ctx).stored_key()
            if key is None or key.access_key_id != key_id:
                return KeyViewed(key_id, None)
            return KeyViewed(key_id, key.secret_access_key[-4:])

        self._worker(read, f"{Job.KEY_VIEW}:{key_id}", description="reading the keyring")
