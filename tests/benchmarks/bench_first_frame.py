"""Benchmark: time to the first frame in a real terminal, the wizard against a bare Textual app.

Each run starts one program in a fresh 100x32 tmux pane (a private tmux server) and measures from
launch to its first painted frame, two ways:

- **marker**: the program writes ``time.time_ns()`` to a file once its first screen has been
  refreshed. The wizard does this when ``CIRCLECI_S3_WIZARD_FIRST_FRAME`` names a file (see
  ``screens/app.py``), together with which of boto3, botocore, moto and keyring it had imported
  by then; the bare app does the same from its own ``on_mount``.
- **pane**: ``tmux capture-pane`` polled every few milliseconds until the program's first text is
  on screen (coarser, and independent of the program's own account).

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

MARKER_ENV = "CIRCLECI_S3_WIZARD_FIRST_FRAME"
POLL_SECONDS = 0.005
TIMEOUT_SECONDS = 30.0

BARE_APP = textwrap.dedent(f'''
    """A bare Textual app: one Static, and the same first-frame marker as the wizard."""
    import os, sys, time
    from pathlib import Path

    from textual.app import App
    from textual.widgets import Static

    HEAVY = ("boto3", "botocore", "moto", "keyring")


    def mark(path):
        loaded = ",".join(m for m in HEAVY if m in sys.modules) or "-"
        Path(path).write_text(f"{{time.time_ns()}} {{loaded}}\\n")


    class Bare(App):
        def compose(self):
            yield Static("ready")

        def on_mount(self):
            path = os.environ.pop("{MARKER_ENV}", None)
            if path:
                self.call_after_refresh(mark, path)


    Bare().run()
''')


@dataclass
class Case:
    label: str
    argv: list[str]
    #: Text that is on screen once the first frame is drawn.
    first_text: str
    marker_ms: list[float] = field(default_factory=list)
    pane_ms: list[float] = field(default_factory=list)
    heavy: set[str] = field(default_factory=set)


def run_once(tmux: str, case: Case, env: dict[str, str], work: Path) -> tuple[float, float, str]:
    """One launch: (ms to the marker, ms to the text in the pane, heavy modules at the marker)."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    base = [tmux, "-L", name, "-f", "/dev/null"]
    start_file, marker = work / f"{name}.start", work / f"{name}.frame"
    launch = f'date +%s%N > {start_file}; exec "$@"'
    run_env = dict(env, **{MARKER_ENV: str(marker)})
    subprocess.run([*base, "new-session", "-d", "-s", name, "-x", "100", "-y", "32",
                    "sh", "-c", launch, "sh", *case.argv], env=run_env, check=True, timeout=10)
    try:
        seen_ns = 0
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline and not (seen_ns and marker.exists()):
            if not seen_ns:
                pane = subprocess.run([*base, "capture-pane", "-p", "-t", name],
                                      capture_output=True, text=True, check=True).stdout
                if case.first_text in pane:
                    seen_ns = time.time_ns()
            time.sleep(POLL_SECONDS)
        if not (seen_ns and marker.exists() and start_file.exists()):
            raise SystemExit(f"{case.label}: no first frame within {TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.01)  # the marker is written in one call; let it land
        started = int(start_file.read_text().strip())
        painted_text, loaded = marker.read_text().split()
        return (int(painted_text) - started) / 1e6, (seen_ns - started) / 1e6, loaded
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
                 "This wizard gives one CircleCI project"),
        ]
        for case in cases:
            run_once(tmux, case, env, work)  # warm the disk cache
        for _ in range(args.runs):
            for case in cases:
                marker_ms, pane_ms, loaded = run_once(tmux, case, env, work)
                case.marker_ms.append(marker_ms)
                case.pane_ms.append(pane_ms)
                case.heavy.update(m for m in loaded.split(",") if m != "-")

    cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cached"
    print(f"\nFirst frame in tmux (100x32), {cache}, {args.runs} runs each, median (min)\n")
    print(f"{'program':34} {'marker':>18} {'text in pane':>18}   heavy modules at first frame")
    for case in cases:
        marker = f"{statistics.median(case.marker_ms):6.0f} ms ({min(case.marker_ms):.0f})"
        pane = f"{statistics.median(case.pane_ms):6.0f} ms ({min(case.pane_ms):.0f})"
        print(f"{case.label:34} {marker:>18} {pane:>18}   "
              f"{', '.join(sorted(case.heavy)) or 'none'}")
    bare_case, ours = cases
    for what, attr in (("marker", "marker_ms"), ("text in pane", "pane_ms")):
        ratio = statistics.median(getattr(ours, attr)) / statistics.median(getattr(bare_case,
                                                                                   attr))
        verdict = "within" if ratio <= 1.5 else "NOT within"
        print(f"ratio wizard / bare ({what}): {ratio:.2f}x ({verdict} the 1.5x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
