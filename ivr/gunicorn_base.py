"""gunicorn's settings that every process of the router shares (the web process's
`ivr.web.gunicorn` and the console's `ivr.console.gunicorn` take them from here).

- Logging: the same lines as every other process (`ivr.logs`, IVR_LOG_FORMAT and
  IVR_LOG_LEVEL), gunicorn's own and its access log included. The access log holds the method,
  the path and the status, never the query string: a number whose Voice URL is set to GET
  sends the caller's number and the CallSid in it. Its lines are built from those fields only
  (`ivr.gunicorn_access`), not from every header and variable as gunicorn's own logger does.
- Forwarded headers (X-Forwarded-*) are trusted from nobody at gunicorn's level.
- No control socket (gunicorn 27+): it lives at one path per user, which several routers on
  one host would fight over, and nothing here manages gunicorn through it.
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
logger_class = "ivr.gunicorn_access.AccessLogger"  # these six fields only, cheaply
forwarded_allow_ips = ""
control_socket_disable = True
