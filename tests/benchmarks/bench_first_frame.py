"""Benchmark: time to the first frame in a real terminal, the wizard against a bare Textual app.

Each run starts one program in a fresh 100x32 tmux pane (a private tmux server) and measures, from
outside the program, the time from launch until its first text is on screen: ``tmux
capture-pane`` polled every few milliseconds. Nothing in the wizard helps (no hook, no marker
file), so what is measured is what an operator sees. Which heavy modules the first frame needs is
checked by a test instead (``tests/tui/test_tui_registry.py``: the Welcome page loads no boto3,
botocore, moto or keyring).

The launch time is written by the pane's shell just before it ``exec``s the program, so tmux's
own start-up is not counted. Cases alternate run by run; one unmeasured run of each warms the
disk cache and writes the bytecode cache (into a temporary ``PYTHONPYCACHEPREFIX``, so the source
tree stays clean; an inherited ``PYTHONDONTWRITEBYTECODE`` would make every start compile every
module, which an installed program does not do; ``--no-bytecode-cache`` measures exactly that).
Reports medians and the ratio (target: the wizard within 1.5x of the bare app).

    uv run python tests/benchmarks/bench_first_frame.py [--runs 7] [--no-bytecode-cache]

Needs tmux. Reports only; asserts nothing. Not a pytest test (no ``test_`` names).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import clean_env, venv_tool  # noqa: E402

POLL_SECONDS = 0.005
TIMEOUT_SECONDS = 30.0

BARE_APP = textwrap.dedent('''
    """A bare Textual app: one Static."""
    from textual.app import App
    from textual.widgets import Static


    class Bare(App):
        def compose(self):
            yield Static("ready")


    Bare().run()
''')


@dataclass
class Case:
    label: str
    argv: list[str]
    #: Text that is on screen once the first frame is drawn.
    first_text: str
    pane_ms: list[float] = field(default_factory=list)


def run_once(tmux: str, case: Case, env: dict[str, str], work: Path) -> float:
    """One launch: ms from the exec to the first text in the pane."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    base = [tmux, "-L", name, "-f", "/dev/null"]
    start_file = work / f"{name}.start"
    launch = f'date +%s%N > {start_file}; exec "$@"'
    subprocess.run([*base, "new-session", "-d", "-s", name, "-x", "100", "-y", "32",
                    "sh", "-c", launch, "sh", *case.argv], env=env, check=True, timeout=10)
    try:
        seen_ns = 0
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline and not seen_ns:
            pane = subprocess.run([*base, "capture-pane", "-p", "-t", name],
                                  capture_output=True, text=True, check=True).stdout
            if case.first_text in pane:
                seen_ns = time.time_ns()
                break
            time.sleep(POLL_SECONDS)
        if not (seen_ns and start_file.exists()):
            raise SystemExit(f"{case.label}: no first frame within {TIMEOUT_SECONDS:.0f} s")
        return (seen_ns - int(start_file.read_text().strip())) / 1e6
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True, check=False, timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each (median)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile every module at every start (PYTHONDONTWRITEBYTECODE=1)")
    args = parser.parse_args(argv)
    tmux = shutil.which("tmux")
    if tmux is None:
        raise SystemExit("tmux is not installed: apt-get install -y tmux")

    with tempfile.TemporaryDirectory(prefix="bench-first-frame-") as tmp:
        work = Path(tmp)
        env = clean_env(work / "home")
        for name in ("DBUS_SESSION_BUS_ADDRESS", "TMUX", "WAYLAND_DISPLAY",
                     "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)  # never near the developer's keyring or tmux
        if args.no_bytecode_cache:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:  # cached bytecode, as an installed program has, kept out of the source tree
            env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        bare = work / "bare_app.py"
        bare.write_text(BARE_APP)
        cases = [
            Case("bare Textual app (same Python)", [sys.executable, str(bare)], "ready"),
            Case("circleci-s3-wizard --sandbox", [venv_tool("circleci-s3-wizard"), "--sandbox"],
                 "How will CircleCI get AWS access?"),
        ]
        for case in cases:
            run_once(tmux, case, env, work)  # warm the disk cache
        for _ in range(args.runs):
            for case in cases:
                case.pane_ms.append(run_once(tmux, case, env, work))

    cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cached"
    print(f"\nFirst frame in tmux (100x32), {cache}, {args.runs} runs each: time until the "
          "first text is in the pane, median (min)\n")
    for case in cases:
        print(f"{case.label:34} {statistics.median(case.pane_ms):6.0f} ms "
              f"({min(case.pane_ms):.0f})")
    bare_case, ours = cases
    ratio = statistics.median(ours.pane_ms) / statistics.median(bare_case.pane_ms)
    verdict = "within" if ratio <= 1.5 else "NOT within"
    print(f"ratio wizard / bare: {ratio:.2f}x ({verdict} the 1.5x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
