"""gunicorn's settings for the console (`gunicorn -c python:ivr.console.gunicorn`, the
Procfile's `console`).

The same log lines as every other process (`ivr.logs`: IVR_LOG_FORMAT, IVR_LOG_LEVEL),
gunicorn's own and its access log included; the access log keeps the path without its query
string. Forwarded headers are trusted from nobody. Unlike the web process it keeps no metrics:
`ivr.web.gunicorn` would clear the web process's metric files when the console started.
"""

from __future__ import annotations

from ivr.gunicorn_base import (  # noqa: F401 - gunicorn reads them from this module
    access_log_format,
    accesslog,
    control_socket_disable,
    forwarded_allow_ips,
    logconfig_dict,
    logger_class,
)
