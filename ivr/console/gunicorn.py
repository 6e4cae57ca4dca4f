"""gunicorn's settings for the console (`gunicorn -c python:ivr.console.gunicorn`, the
Procfile's `console`).

The same log lines as every other process (`ivr.logs`: IVR_LOG_FORMAT, IVR_LOG_LEVEL),
gunicorn's own and its access log included; the access log keeps the path without its query
string. Forwarded headers are trusted from nobody. Unlike the web process it keeps no metrics:
`ivr.web.gunicorn` would clear the web process's metric files when the console started.
"""

from __future__ import annotations

import os

from ivr.logs import dict_config, settings_of

_format, _level = settings_of(os.environ)
logconfig_dict = dict_config(_format, _level, {
    "gunicorn.error": {"level": _level, "handlers": ["stderr"], "propagate": False},
    "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
})
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
forwarded_allow_ips = ""
control_socket_disable = True  # as the web process: no control socket shared per user
