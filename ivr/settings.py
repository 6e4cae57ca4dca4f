"""Configuration, read from the environment in exactly one place.

Everything else receives a `Settings` object; nothing reads `os.environ` at import time, so tests
and the `ivr` commands can build the application with any configuration they need.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ivr import logs
from ivr.numbers import dialable_problem

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    twilio_auth_token: str
    hmac_secret: bytes
    redis_url: str | None = None
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'ivr.sqlite3'}"
    public_base_url: str | None = None
    flows_dir: Path = PROJECT_ROOT / "flows"
    audio_dir: Path = PROJECT_ROOT / "audio"
    default_flow: str = "hotline150"
    caller_id: str | None = None
    fallback_numbers: tuple[str, ...] = ()
    queue_name: str = "ivr-records"
    redis_prefix: str = "ivr:"
    spool_dir: Path = PROJECT_ROOT / "var" / "spool"
    cache_dir: Path = PROJECT_ROOT / "var" / "cache"
    retention_days: int = 90
    repeat_window_days: int = 30
    retry_intervals: tuple[int, ...] = (10, 60, 300, 1800, 3600)
    tags_secret: str = ""
    messages_language: str = "en"
    spool_every_seconds: float = 60.0
    sweep_after_seconds: float = 5 * 3600.0  # a call's log unchanged this long, and no status
    tags_window_seconds: float = 300.0  # how old a signed /api/tags request may be
    call_ttl_seconds: int = 6 * 3600
    redis_timeout_seconds: float = 0.5
    log_format: str = "text"  # or json
    log_level: str = "INFO"
    metrics_port: int = 9150  # the internal listener that alone serves /metrics; 0: none
    console_secret: str = ""  # signs the console's session cookies (IVR_CONSOLE_SECRET)
    console_idle_minutes: float = 30.0  # a console session unused this long ends
    console_insecure_cookies: bool = False  # only for a plain-http trial off this machine
    console_proxies: int = 0  # proxies in front of the console whose X-Forwarded-* to trust

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (see the README's configuration table)."""
        env = os.environ if env is None else env
        token = env.get("TWILIO_AUTH_TOKEN", "")
        secret = env.get("IVR_HMAC_SECRET", "")
        defaults = cls(twilio_auth_token=token, hmac_secret=secret.encode())
        fallback = tuple(n.strip() for n in env.get("IVR_FALLBACK_NUMBERS", "").split(",") if n.strip())
        settings = replace(
            defaults,
            redis_url=env.get("REDIS_URL") or None,
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            public_base_url=(env.get("IVR_PUBLIC_URL") or "").rstrip("/") or None,
            flows_dir=Path(env.get("IVR_FLOWS_DIR") or defaults.flows_dir),
            audio_dir=Path(env.get("IVR_AUDIO_DIR") or defaults.audio_dir),
            default_flow=env.get("IVR_DEFAULT_FLOW") or defaults.default_flow,
            caller_id=env.get("IVR_CALLER_ID") or None,
            fallback_numbers=fallback,
            queue_name=env.get("IVR_QUEUE") or defaults.queue_name,
            redis_prefix=env.get("IVR_REDIS_PREFIX") or defaults.redis_prefix,
            spool_dir=Path(env.get("IVR_SPOOL_DIR") or defaults.spool_dir),
            cache_dir=Path(env.get("IVR_CACHE_DIR") or defaults.cache_dir),
            retention_days=_int(env, "IVR_RETENTION_DAYS", defaults.retention_days),
            repeat_window_days=_int(env, "IVR_REPEAT_WINDOW_DAYS", defaults.repeat_window_days),
            tags_secret=env.get("IVR_TAGS_SECRET", ""),
            messages_language=env.get("IVR_MESSAGES") or "en",
            spool_every_seconds=_seconds(env, "IVR_SPOOL_EVERY", defaults.spool_every_seconds),
            sweep_after_seconds=_seconds(env, "IVR_SWEEP_AFTER", defaults.sweep_after_seconds),
            tags_window_seconds=_seconds(env, "IVR_TAGS_WINDOW", defaults.tags_window_seconds),
            metrics_port=_port(env, "IVR_METRICS_PORT", defaults.metrics_port),
            console_secret=env.get("IVR_CONSOLE_SECRET", ""),
            console_idle_minutes=_minutes(env, "IVR_CONSOLE_IDLE_MINUTES",
                                          defaults.console_idle_minutes),
            console_insecure_cookies=env.get("IVR_CONSOLE_INSECURE_COOKIES", "") == "1",
            console_proxies=_proxies(env, "IVR_CONSOLE_PROXIES"),
        )
        try:
            log_format, log_level = logs.settings_of(env)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        settings = replace(settings, log_format=log_format, log_level=log_level)
        settings.check_numbers()
        return settings

    def check_numbers(self) -> None:
        """Refuse numbers Twilio cannot use: the caller ID and the safe path's lines must be
        full international numbers, or every call would meet the mistake."""
        for name, numbers in (("IVR_CALLER_ID", (self.caller_id,) if self.caller_id else ()),
                              ("IVR_FALLBACK_NUMBERS", self.fallback_numbers)):
            for number in numbers:
                why = dialable_problem(number)
                if why:
                    raise ConfigError(f"{name}: {why}")

    def check_web(self) -> None:
        """Refuse to serve webhooks without the secrets that protect callers, or with numbers
        Twilio cannot dial."""
        self.check_numbers()
        if not self.caller_id:
            raise ConfigError(
                "IVR_CALLER_ID is not set: without it, a call that arrives as a short number "
                "(150) would ring operators' phones showing the caller's own number. Set it to "
                "one of your Twilio numbers, e.g. IVR_CALLER_ID=+77172000150.")
        if not self.twilio_auth_token:
            raise ConfigError(
                "TWILIO_AUTH_TOKEN is not set: webhooks cannot be verified without it "
                "(`ivr serve` makes a development token for local runs)."
            )
        if len(self.hmac_secret) < 16:
            raise ConfigError(
                "IVR_HMAC_SECRET must be set to at least 16 random characters: it keys the "
                "pseudonyms that replace call identifiers."
            )

    def check_console(self) -> None:
        """Refuse to run the console without what keeps its sessions and logins safe."""
        if len(self.console_secret) < 32:
            raise ConfigError(
                "IVR_CONSOLE_SECRET must be set to at least 32 random characters: it signs the "
                "console's login cookies, so anyone who knows it can log in as anyone. Make one "
                "with: python3 -c 'import secrets; print(secrets.token_hex(32))'")
        if not self.redis_url:
            raise ConfigError("REDIS_URL is not set: the console counts failed logins in the "
                              "Redis every console host shares, and refuses logins without it.")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 6 or int(value) < 1:
        raise ConfigError(f"{name} must be a whole number of days, not '{value}'")
    return int(value)


def _proxies(env: Mapping[str, str], name: str) -> int:
    value = env.get(name, "") or "0"
    if value not in ("0", "1", "2", "3"):
        raise ConfigError(f"{name} must be how many proxies stand in front of the console "
                          f"(0 to 3; 1 behind the TLS proxy), not '{value}'")
    return int(value)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) > 65535:
        raise ConfigError(f"{name} must be a port number from 1 to 65535 (0 turns it off), "
                          f"not '{value}'")
    return int(value)


def _minutes(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "")
    if not value:
        return default
    try:
        minutes = float(value)
    except ValueError:
        minutes = -1.0
    if not 0 < minutes <= 24 * 60:
        raise ConfigError(f"{name} must be a number of minutes above 0 and at most 1440, "
                          f"such as 30, not '{value}'")
    return minutes


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "")
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 10**6:
        raise ConfigError(f"{name} must be a number of seconds, such as 60, not '{value}'")
    return seconds
