"""Every Redis key the router writes, in one place, under its prefix (IVR_REDIS_PREFIX).

Call state: `call:<call key>` (one call's event log), `call:<call key>:seen` (the deliveries
already applied), `call:<call key>:legs` (its legs, ringing or accepted), `call:<call
key>:state` (its state at a place in the log, `ivr.engine.checkpoint`), `active` (calls by
their last activity, for the sweep), `rotation` (the counter that rotates who rings first),
`busy` (operators ringing or on a call, scored by when the mark lapses), `holds` (which call
holds each of them), `leg:<token>` (the call a whisper URL's token stands for),
`caller-secret:<month>` (the month's caller-key secret, wrapped), `away` (consultants who
marked themselves away, scored by when they are back; `ivr.calls.presence`).
The waiting line (`ivr.calls.line`): `line` (waiting calls by when they joined), `line:info`
(what the line needs of each), `line:seen` (when each last asked), `talk` (how long
conversations last lately). Totals the metrics report: `metrics:<name>` (a hash of counts).
Published versions (`ivr.library.store`): `lib:current` (the version in force), `lib:history`
(every publication, newest last), `lib:version:<version>` (a version's files by content hash),
`lib:blob:<sha256>` (a file's content), `lib:tree:<sha256>` (a YAML file as the checks parsed
it), `lib:schema-ok:<schemas>:<sha256>` (a file that its schema, in the version `<schemas>` of
the schemas, found nothing wrong with), `lib:refused` (the last refused publication) and the
channel `lib:published`, on which each publication is announced to every web process.
The console (`ivr.console.throttle`): `console:failures:name:<digest of a name>` and
`console:failures:from:<address>` (the recent failed logins for a name, whether an account has
it or not, and from a client address, scored by when; too many pause logins; each key lapses
half an hour after its last failure). A name is kept as a digest, so a password typed into the
name field never lands in Redis.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "ivr:"


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    # --- calls ----------------------------------------------------------------------------
    def call(self, call_key: str) -> str:
        return f"{self.prefix}call:{call_key}"

    def seen(self, call_key: str) -> str:
        return f"{self.prefix}call:{call_key}:seen"

    def legs(self, call_key: str) -> str:
        return f"{self.prefix}call:{call_key}:legs"

    def checkpoint(self, call_key: str) -> str:
        return f"{self.prefix}call:{call_key}:state"

    @property
    def active(self) -> str:
        return f"{self.prefix}active"

    @property
    def holds(self) -> str:
        return f"{self.prefix}holds"

    def leg_token(self, token: str) -> str:
        return f"{self.prefix}leg:{token}"

    @property
    def rotation(self) -> str:
        return f"{self.prefix}rotation"

    @property
    def busy(self) -> str:
        return f"{self.prefix}busy"

    @property
    def away(self) -> str:
        return f"{self.prefix}away"

    # --- the waiting line (`ivr.calls.line`) -------------------------------------------------
    @property
    def line(self) -> str:
        return f"{self.prefix}line"

    @property
    def line_info(self) -> str:
        return f"{self.prefix}line:info"

    @property
    def line_seen(self) -> str:
        return f"{self.prefix}line:seen"

    @property
    def talk(self) -> str:
        return f"{self.prefix}talk"

    # --- counters the metrics report (`ivr.calls.counts`) ------------------------------------
    def counter(self, name: str) -> str:
        return f"{self.prefix}metrics:{name}"

    def caller_secret(self, month: str) -> str:
        return f"{self.prefix}caller-secret:{month}"

    @property
    def caller_secrets(self) -> str:
        """A pattern matching every month's caller-key secret."""
        return f"{self.prefix}caller-secret:*"

    # --- published versions -----------------------------------------------------------------
    @property
    def current(self) -> str:
        return f"{self.prefix}lib:current"

    @property
    def history(self) -> str:
        return f"{self.prefix}lib:history"

    def version(self, version: str) -> str:
        return f"{self.prefix}lib:version:{version}"

    def blob(self, digest: str) -> str:
        return f"{self.prefix}lib:blob:{digest}"

    def tree(self, digest: str) -> str:
        return f"{self.prefix}lib:tree:{digest}"

    def schema_ok(self, schemas: str, digest: str) -> str:
        return f"{self.prefix}lib:schema-ok:{schemas}:{digest}"

    @property
    def refused(self) -> str:
        return f"{self.prefix}lib:refused"

    @property
    def published(self) -> str:
        """The pub/sub channel that announces each publication."""
        return f"{self.prefix}lib:published"

    # --- the console ------------------------------------------------------------------------
    def console_failures(self, name_digest: str) -> str:
        """Recent failed logins for an account name (a name that exists or not)."""
        return f"{self.prefix}console:failures:name:{name_digest}"

    def console_failures_from(self, address: str) -> str:
        """Recent failed logins from one client address."""
        return f"{self.prefix}console:failures:from:{address}"
