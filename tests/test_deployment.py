"""What a technician deploys: the container image, the compose file, the TLS proxy, the systemd
units, the licence. Docker itself may not run where the tests do, so the files are read and
checked for what the README promises of them."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import yaml

from ivr.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
SERVICES = {"proxy", "web", "worker", "console", "redis", "postgres"}


def compose() -> dict[str, dict[str, object]]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services: dict[str, dict[str, object]] = data["services"]
    return services


def test_the_compose_file_runs_every_service_the_readme_names() -> None:
    services = compose()
    assert set(services) == SERVICES
    readme = (PROJECT_ROOT / "README.md").read_text()
    for name in SERVICES:
        assert f"`{name}`" in readme, name
    web, worker = services["web"], services["worker"]
    assert web["image"] == worker["image"] == "ivr150"
    assert worker["command"] == ["ivr", "worker"]
    assert "ports" not in web
    assert set(web["expose"]) == {"5000", "9150"}
    assert services["proxy"]["ports"] == ["80:80", "443:443"]
    assert "--appendonly" in services["redis"]["command"]  # type: ignore[operator]
    for service in ("redis", "postgres", "web"):
        assert "healthcheck" in services[service]
    console = services["console"]
    assert console["ports"] == ["127.0.0.1:8150:8150"]  # never on a public address
    assert "ivr.console.app:create_console()" in " ".join(console["command"])  # type: ignore[arg-type]
    environment = web["environment"]
    assert isinstance(environment, dict)
    assert environment["REDIS_URL"].startswith("redis://redis:")
    assert environment["DATABASE_URL"].startswith("postgresql://")


def test_every_setting_the_deployment_names_is_one_the_router_reads() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE))
    named = set(re.findall(r"^(?:# )?([A-Z][A-Z_]+)=", (DEPLOY / "env.example").read_text(),
                           re.MULTILINE))
    named |= set(compose()["web"]["environment"])  # type: ignore[arg-type]
    named |= set(compose()["console"]["environment"])  # type: ignore[arg-type]
    # the proxy's names, the database's password
    compose_only = {"IVR_HOSTNAME", "IVR_CONSOLE_HOSTNAME", "POSTGRES_PASSWORD"}
    assert named - compose_only <= documented, named - compose_only - documented
    settings = (PROJECT_ROOT / "ivr" / "settings.py").read_text()
    for name in named - compose_only:
        assert f'"{name}"' in settings or name == "PORT", name


def test_the_image_copies_what_exists_and_runs_the_procfiles_web_process() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.MULTILINE):
        assert (PROJECT_ROOT / source).exists(), source
    assert "-c requirements/lock.txt" in dockerfile
    assert ".[server,postgres,console]" in dockerfile
    assert "ivr.web.gunicorn" in dockerfile
    assert "ivr.web.app:create_app()" in dockerfile
    assert "USER ivr" in dockerfile


def test_the_proxy_publishes_the_webhooks_and_never_the_metrics() -> None:
    caddy = (DEPLOY / "Caddyfile").read_text()
    public = re.search(r"@public path (.+)", caddy)
    assert public is not None
    paths = public.group(1).split()
    assert {"/voice", "/voice/*", "/healthz", "/audio/*"} <= set(paths)
    assert not any("metrics" in path for path in paths)
    assert "respond 404" in caddy


def test_the_systemd_units_start_the_router_and_purge_daily() -> None:
    units = {path.name: path for path in (DEPLOY / "systemd").iterdir()}
    assert set(units) == {"ivr-web.service", "ivr-worker.service", "ivr-console.service",
                          "ivr-purge.service", "ivr-purge.timer"}
    for name, path in units.items():
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.read_string(path.read_text())
        assert unit.has_section("Unit"), name
        if name.endswith(".service"):
            command = unit["Service"]["ExecStart"]
            assert command.startswith("/srv/ivr/.venv/bin/"), name
            assert unit["Service"]["EnvironmentFile"] == "/etc/ivr150/env"
    web = (DEPLOY / "systemd" / "ivr-web.service").read_text()
    assert "--bind 127.0.0.1:${IVR_METRICS_PORT}" in web
    console = (DEPLOY / "systemd" / "ivr-console.service").read_text()
    assert "--bind 127.0.0.1:${IVR_CONSOLE_PORT}" in console


def test_the_licence_is_the_one_the_package_declares() -> None:
    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == {"text": "Apache-2.0"}
    assert "Apache License" in (PROJECT_ROOT / "LICENSE").read_text()[:200]
    assert "Version 2.0" in (PROJECT_ROOT / "LICENSE").read_text()[:300]
    assert Path(PROJECT_ROOT / "SECURITY.md").is_file()
