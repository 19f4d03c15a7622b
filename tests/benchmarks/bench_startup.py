"""Benchmark: start-up of the commands that need no AWS (``--help``, ``policy``).

Wall time of the installed ``circleci-s3-wizard`` for each, and of the README's ``uv run`` form
against it (a ratio: ``uv run`` must not recompile the environment each time), next to a bare
``python -c pass``
and ``python -c "import boto3"`` for scale, and which heavy modules each command loaded (it
should be none: boto3, moto, keyring and textual stay off these paths).

    uv run python tests/benchmarks/bench_startup.py [--runs N]

Reports only; asserts nothing. Not a pytest test (no ``test_`` names).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import clean_env, summary, timed, venv_tool  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "botocore", "moto", "keyring", "textual")

_LOADED = """
import contextlib, io, json, sys
from circleci_s3_wizard.wizard.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(json.loads(sys.argv[1]))
print(json.dumps([m for m in {heavy!r} if m in sys.modules]))
"""


def loaded_modules(args: list[str], env: dict[str, str]) -> list[str]:
    """The heavy modules a command imported, seen from inside the same interpreter."""
    done = subprocess.run([sys.executable, "-c", _LOADED.format(heavy=HEAVY), json.dumps(args)],
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each (median reported)")
    args = parser.parse_args(argv)

    wizard = venv_tool("circleci-s3-wizard")
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("python -c 'import boto3'", [sys.executable, "-c", "import boto3"], None),
        ("circleci-s3-wizard --help", [wizard, "--help"], ["--help"]),
        # The README's way: `uv run` checks the environment first, and must not recompile it
        # (no compile-bytecode in [tool.uv]); compare it with the installed command above.
        ("uv run circleci-s3-wizard --help", ["uv", "run", "--frozen", "circleci-s3-wizard",
                                              "--help"], None),
        ("circleci-s3-wizard policy --bucket B",
         [wizard, "policy", "--bucket", "bench-builds"], ["policy", "--bucket", "bench-builds"]),
    ]
    rows = []
    medians: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = clean_env(Path(tmp))
        for label, command, cli_args in cases:
            timed(command, env, cwd=ROOT)  # warm the disk cache (and Python's bytecode)
            samples = [timed(command, env, cwd=ROOT)[0] for _ in range(args.runs)]
            loaded = "-" if cli_args is None else (", ".join(loaded_modules(cli_args, env))
                                                   or "none")
            rows.append((label, summary(samples), loaded))
            medians[label] = statistics.median(samples)

    ratio = medians["uv run circleci-s3-wizard --help"] / medians["circleci-s3-wizard --help"]
    print(f"\nStart-up, {args.runs} runs each (median)\n")
    print(f"uv run / installed command (--help): {ratio:.2f}x\n")
    print(f"{'command':40} {'wall time':>28}   heavy modules loaded")
    for label, wall, loaded in rows:
        print(f"{label:40} {wall:>28}   {loaded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
