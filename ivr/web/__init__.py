"""The web tier, and the only place Flask is used: the webhooks Twilio calls, the health check,
the recordings, and the signed tagging endpoint. `create_app` (in `app`) builds it; the
Procfile serves `ivr.web.app:create_app()` with gunicorn."""
