"""gunicorn's settings for the web process (`gunicorn -c python:ivr.web.gunicorn`).

- The access log holds the method, the path and the status, never the query string: a number
  whose Voice URL is set to GET sends the caller's number and the CallSid in it.
- Forwarded headers (X-Forwarded-*) are trusted from nobody: behind a proxy, IVR_PUBLIC_URL
  says the address Twilio signs, and nothing a client sends can change it.
"""

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
forwarded_allow_ips = ""
# No control socket (gunicorn 27+): it lives at one path per user, which several routers on
# one host would fight over, and nothing here manages gunicorn through it.
control_socket_disable = True
