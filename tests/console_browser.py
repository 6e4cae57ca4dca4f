"""What the console's browser tests share: Chromium (Debian's /usr/bin/chromium, driven by
Playwright), the console started from the Procfile's `console` line under gunicorn on a test
database and the test Redis, and screenshots kept in test-artifacts/screenshots/.

A test module imports the fixtures it uses from here. Without Chromium the tests fail with the
command that installs it: they are never skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from ivr.cli.processes import procfile_commands
from ivr.settings import PROJECT_ROOT, Settings
from tests.console_helpers import PASSWORD, SECRET, add_account
from tests.servers import free_port, stop_group, wait_for

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


class Console:
    """The Procfile's console process on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "IVR_CONSOLE_PORT": str(self.port),
                    "IVR_CONSOLE_SECRET": SECRET, "REDIS_URL": settings.redis_url or "",
                    "IVR_REDIS_PREFIX": settings.redis_prefix,
                    "DATABASE_URL": settings.database_url,
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
                    **env}
        self.env.pop("IVR_CONSOLE_BIND", None)  # the Procfile's default: 127.0.0.1
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Console:
        command = procfile_commands(PROJECT_ROOT / "Procfile")["console"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, shell=True, env=self.env,  # noqa: S602
                                            cwd=PROJECT_ROOT, start_new_session=True,
                                            stdout=log, stderr=log)

        def answers() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            with urllib.request.urlopen(f"{self.url}/login", timeout=2) as reply:  # noqa: S310
                return bool(reply.status == 200)

        wait_for(answers, seconds=60)
        return self

    def stop(self) -> None:
        stop_group(self.process)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("install Chromium: apt-get install chromium", pytrace=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        yield browser
        browser.close()


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)


@pytest.fixture
def start_console(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Console]]:
    started: list[Console] = []

    def start(**env: str) -> Console:
        console = Console(settings, tmp_path / f"console-{len(started)}.log", **env).start()
        started.append(console)
        return console

    yield start
    for console in started:
        console.stop()
    client = redis.Redis.from_url(settings.redis_url or "")
    for key in client.scan_iter(match=f"{settings.redis_prefix}console:*"):
        client.delete(key)  # only what these tests made
    client.close()


@pytest.fixture
def console(start_console: Callable[..., Console], settings: Settings) -> Console:
    add_account(settings.database_url, "sabina", "supervisor", language="ru")
    add_account(settings.database_url, "aigerim", "consultant", language="kk")
    add_account(settings.database_url, "viktor", "viewer", language="en")
    return start_console()


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(locale="en-US", viewport={"width": 1100, "height": 700})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Page:
    return context.new_page()


def shot(page: Page, name: str) -> None:
    """Keep what a person would see now."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, console: Console, name: str, password: str = PASSWORD,
           language: str = "") -> None:
    page.goto(f"{console.url}/login" + (f"?lang={language}" if language else ""))
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def log_out(page: Page) -> None:
    page.click("header form button[type=submit]")


