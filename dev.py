#!/usr/bin/env python3
"""Set up and run the router or its checks, on a machine that has only Python 3.11+.

    python3 dev.py run     # web, worker, an embedded Redis (unless REDIS_URL is set), and a
                           # watcher that publishes each edit of flows/ and audio/
    python3 dev.py test    # ruff, mypy and the whole test suite (extra args go to pytest)

Both create `.venv/` on first use and reinstall only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_environment() -> None:
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    stamp = VENV / ".installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print("Installing the project and its test tools into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    stamp.write_text(wanted)


def run(args: list[str]) -> int:
    return subprocess.call([str(BIN / "ivr"), "serve", "--watch", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    for step in (["ruff", "check", "."], ["mypy"]):
        print(f"$ {' '.join(step)}", flush=True)
        if subprocess.call([str(BIN / step[0]), *step[1:]], cwd=ROOT) != 0:
            return 1
    print("$ pytest", flush=True)
    return subprocess.call([str(BIN / "pytest"), *args], cwd=ROOT)


def main() -> int:
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    ensure_environment()
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
