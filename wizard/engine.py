"""The engine: plan, apply and destroy the whole setup, for the CLI and the TUI alike.

``plan`` asks every step at once: each step's reads run in their own thread and share one memo
(:mod:`wizard.reads`), with the caller's identity and the keyring backend resolved alongside, so
a plan costs about one round trip to AWS, not one per question. ``apply`` refuses a plan with a
conflict or a blocked step (nothing is touched), wants consent for updates, then runs the
changing steps as a dependency graph (:mod:`wizard.graph`) from the plan's own facts, and
reports every step in the tutorial's order, whatever order they finished in.

Every command that changes something does so under the run lock (:mod:`wizard.lock`), planned
under it too, so two runs cannot interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from functools import partial
from typing import TYPE_CHECKING, Any

from .context import RunContext
from .errors import WizardError, explain
from .graph import Graph, Stopped, Work, run_all
from .model import Action, HandoffNeeded, Plan, Report, StepPlan, StepResult
from .registry import StepInfo, info, steps_for

if TYPE_CHECKING:
    from .secret_store import AccessKey

Progress = Callable[[StepResult], None]


class PlanRefused(WizardError):
    """Applying would hit a conflict or a blocked step; nothing was changed."""

    def __init__(self, plan: Plan):
        super().__init__("Nothing was changed: " + " ".join(s.detail for s in plan.refused))
        self.plan = plan


class NeedsConsent(WizardError):
    """Something exists but differs; it may be updated only with the operator's consent."""

    def __init__(self, plan: Plan):
        super().__init__("Nothing was changed: " + " ".join(s.detail for s in plan.updates),
                         hint="Re-run with --yes to update it, or choose other names.")
        self.plan = plan


class Engine:
    """Plans, applies and destroys the whole setup for one :class:`RunContext`."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx

    @property
    def infos(self) -> tuple[StepInfo, ...]:
        return steps_for(self.ctx.config)

    # -- what a view asks besides plans (each answered by the step that knows it) ------------

    def keyring_problem(self) -> str | None:
        """Why the keyring cannot take the secret now, or None (asked before any step runs)."""
        from .steps.access_key_step import keyring_problem

        return keyring_problem(self.ctx)

    def stored_key(self) -> AccessKey | None:
        """The keyring's access key for the setup's user, or None."""
        from .steps.access_key_step import stored_key

        return stored_key(self.ctx)

    def buckets(self) -> list[str]:
        """The buckets the operator can see, to pick one from."""
        from .steps.bucket_step import list_buckets

        return list_buckets(self.ctx)

    def suggested_bucket(self) -> str:
        """A bucket name to offer when none was given."""
        from .steps.bucket_step import suggested_bucket

        return suggested_bucket(self.ctx)

    def policy_document(self) -> str:
        """The policy as it will be created (JSON), and :meth:`policy_summary` in words."""
        from .steps.policy_step import document_json

        return document_json(self.ctx)

    def policy_summary(self) -> list[str]:
        from .steps.policy_step import summary

        return summary(self.ctx)

    def lock(self, *, command: str = "", wait: float | None = None,
             on_wait: Callable[[str], None] | None = None) -> AbstractContextManager[None]:
        """The run lock for this setup's CircleCI identity (see :mod:`wizard.lock`)."""
        from .lock import DEFAULT_WAIT_SECONDS, run_lock

        c = self.ctx.config
        return run_lock("role" if c.oidc else "user", c.identity_name,
                        sandbox=bool(self.ctx.sandbox),
                        command=command, wait=DEFAULT_WAIT_SECONDS if wait is None else wait,
                        on_wait=on_wait)

    # -- planning ----------------------------------------------------------------------------

    def _guarded(self, step_info: StepInfo, doing: str,
                 call: Callable[[], StepPlan]) -> StepPlan:
        try:
            return call()
        except WizardError:
            raise
        except Exception as exc:  # noqa: BLE001 - a sentence with the AWS code, never a traceback
            raise explain(exc, f"{doing} ({step_info.title})") from exc

    def _all_at_once(self, calls: Sequence[Callable[[], object]]) -> list[Any]:
        """Run the calls in threads and return their answers in order; raise the first failure
        (in the given order, so the message is the same whichever thread failed first)."""
        with ThreadPoolExecutor(max_workers=max(1, len(calls)),
                                thread_name_prefix="plan") as pool:
            futures = [pool.submit(call) for call in calls]
        for future in futures:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return [f.result() for f in futures]

    def _warm_up(self) -> list[Callable[[], Any]]:
        """What a plan needs besides the steps' reads, fetched alongside them.

        The caller's identity goes out first: its answer is awaited by every ARN, and while it
        is in flight the other clients are built (parsing their service models is work for
        the processor, the identity's round trip is not).
        """
        ctx = self.ctx

        def clients_then_keyring() -> None:
            self._warm_clients()
            if ctx.config.keys and ctx.secrets is not None:
                # After the clients: choosing the keyring's backend talks to D-Bus, and in a
                # thread beside the clients' construction it stalled them for a fifth of a
                # second.
                _quietly(ctx.secrets.backend_name)

        def holdings() -> None:
            from .grants import effective, warm

            _quietly(lambda: warm(ctx))  # what the identity holds: asked in this same round
            _quietly(lambda: effective(ctx))

        return [lambda: ctx.identity, clients_then_keyring, holdings]

    def _first_client(self) -> None:
        """The STS client before anything else, so the identity is the first request sent
        (unless the caller is known already: then there is no such request)."""
        if not self.ctx.identity_known:
            self.ctx.client("sts")

    def _warm_clients(self) -> None:
        """The other clients, built while the identity's answer is on its way: IAM first (most
        of the reads), then S3, then the IAM client that never retries (its one create must
        not wait for a client to be built, in the middle of the writes)."""
        for service in ("iam", "s3"):
            self.ctx.client(service)
        if self.ctx.config.keys:
            self.ctx.client("iam", attempts=1)

    def plan(self, *, warnings: tuple[str, ...] = ()) -> Plan:
        """What apply would do, every step at once. Only reads."""
        infos = self.infos
        for step_info in infos:  # imported here, not by ten threads racing for the import lock
            step_info.step()
        calls = [partial(self._guarded, i, "planning", partial(i.step().plan, self.ctx))
                 for i in infos]
        self._first_client()
        answers = self._all_at_once([*self._warm_up(), *calls])
        steps = tuple(answers[len(answers) - len(infos):])
        from .grants import identity_is_least_privilege

        return Plan("setup", self.ctx.config, self.ctx.identity, self.ctx.region, steps,
                    warnings, identity_is_least_privilege(self.ctx))

    def plan_step(self, key: str) -> StepPlan:
        """One step's plan (a TUI page shows it). Reads only what that step needs."""
        step_info = info(key)
        return self._guarded(step_info, "planning", lambda: step_info.step().plan(self.ctx))

    # -- applying ----------------------------------------------------------------------------

    def apply(self, plan: Plan, *, consent: bool = False,
              progress: Progress | None = None) -> Report:
        """Apply ``plan``: refused if anything is in conflict or blocked, updates only with
        ``consent``. The changing steps run as a graph; results come back in tutorial order."""
        if plan.refused:
            raise PlanRefused(plan)
        if plan.updates and not consent:
            raise NeedsConsent(plan)
        ctx = self.ctx
        jobs: dict[str, Callable[[Work], StepResult]] = {
                sp.key: partial(info(sp.key).step().apply, ctx, sp)
                for sp in plan.steps if sp.action.changes}
        emit = _InOrder([sp.key for sp in plan.steps], progress)
        results: dict[str, StepResult] = {}
        for sp in plan.steps:
            if sp.key not in jobs:
                results[sp.key] = StepResult(sp.key, sp.action, sp.detail,
                                             info(sp.key).step().outputs(ctx, sp), title=sp.title)
                emit(results[sp.key])
        handoff = None

        def finished(key: str, work: Work, value: object) -> None:
            nonlocal handoff
            if isinstance(value, HandoffNeeded):
                handoff = value.handoff
            results[key] = _as_result(key, work, value)
            emit(results[key])

        run_all(jobs, Graph(jobs), on_done=finished)
        ordered = tuple(results[sp.key] for sp in plan.steps)
        from .next_steps import next_steps

        return Report(plan, ordered, next_steps(ctx, {r.key: r for r in ordered}), handoff)

    def apply_step(self, plan: StepPlan, *, consent: bool = False) -> StepResult:
        """Apply one step's plan on its own (a TUI page), under the lock.

        Steps it depends on are assumed done (the page says which are not); its writes then run
        as in a full apply, with nothing to wait for.
        """
        if plan.action.stops:
            raise WizardError(plan.detail)
        if plan.action.asks_first and not consent:
            raise NeedsConsent(Plan("setup", self.ctx.config, self.ctx.identity,
                                    self.ctx.region, (plan,)))
        if not plan.action.changes:
            return StepResult(plan.key, plan.action, plan.detail,
                              info(plan.key).step().outputs(self.ctx, plan), title=plan.title)
        outcome: dict[str, tuple[Work, object]] = {}
        run_all({plan.key: lambda work: info(plan.key).step().apply(self.ctx, plan, work)},
                Graph([plan.key]), on_done=lambda k, w, v: outcome.__setitem__(k, (w, v)))
        work, value = outcome[plan.key]
        if isinstance(value, BaseException):
            if isinstance(value, WizardError):
                raise value
            raise explain(value, f"running {info(plan.key).title}") from value
        assert isinstance(value, StepResult)
        return value

    # -- destroying --------------------------------------------------------------------------

    def plan_destroy(self) -> Plan:
        """What destroy would remove (DELETE) or leave (KEEP/ABSENT), in the order it would."""
        infos = tuple(reversed(self.infos))
        calls = [partial(self._guarded, i, "planning removal",
                         partial(i.step().plan_destroy, self.ctx)) for i in infos]
        answers = self._all_at_once([lambda: self.ctx.identity, *calls])
        return Plan("destroy", self.ctx.config, self.ctx.identity, self.ctx.region,
                    tuple(answers[1:]))

    def destroy(self, plan: Plan, *, progress: Progress | None = None) -> Report:
        """Undo in reverse order; only what the wizard made. The bucket is always kept.

        A failure stops the removal there: later steps are reported as stopped, and running
        destroy again picks up where this one ended.
        """
        results: list[StepResult] = []
        failed: str | None = None
        for sp in plan.steps:
            if failed is not None:
                result = StepResult(sp.key, Action.STOPPED, f"Not removed: {failed}",
                                    title=sp.title)
            else:
                try:
                    result = self._guarded_result(sp, partial(info(sp.key).step().destroy,
                                                              self.ctx, sp))
                except WizardError as exc:
                    failed = str(exc)
                    result = StepResult(sp.key, Action.FAILED, failed, title=sp.title)
            results.append(result)
            if progress is not None:
                progress(result)
        return Report(plan, tuple(results))

    def _guarded_result(self, plan: StepPlan, call: Callable[[], StepResult]) -> StepResult:
        try:
            return call()
        except WizardError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise explain(exc, f"removing ({info(plan.key).title})") from exc


def _quietly(call: Callable[[], Any]) -> Any:
    """Warm-ups must not fail a plan: the step that needs the thing reports the problem."""
    try:
        return call()
    except Exception:  # noqa: BLE001
        return None


def _as_result(key: str, work: Work, value: object) -> StepResult:
    """A step's return value or exception as its result, keeping what it did before failing."""
    if isinstance(value, StepResult):
        return value
    done = " ".join(work.done)
    prefix = f"{done} " if done else ""
    title = info(key).title
    if isinstance(value, Stopped):
        return StepResult(key, Action.STOPPED, f"{prefix}{'Then s' if done else 'S'}"
                          f"{str(value)[1:]}", title=title)
    if isinstance(value, WizardError):
        return StepResult(key, Action.FAILED, f"{prefix}{value}", title=title)
    assert isinstance(value, BaseException)
    return StepResult(key, Action.FAILED, f"{prefix}{explain(value, f'running {title}')}",
                      title=title)


class _InOrder:
    """Hands results to ``progress`` in tutorial order, each as soon as all before it are in."""

    def __init__(self, order: list[str], progress: Progress | None):
        self._order = order
        self._progress = progress
        self._waiting: dict[str, StepResult] = {}
        self._next = 0
        self._lock = threading.Lock()

    def __call__(self, result: StepResult) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._waiting[result.key] = result
            while self._next < len(self._order) and self._order[self._next] in self._waiting:
                self._progress(self._waiting.pop(self._order[self._next]))
                self._next += 1
