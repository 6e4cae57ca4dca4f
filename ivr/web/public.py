"""The router's unsigned endpoints: the health check, and the recordings Twilio plays.

`/healthz` is for load balancers: 200 while this process serves a published version, with that
version and whether Redis answers (the router still answers calls without it), and nothing
more. Recordings are
served from the published versions this process holds, by their content-addressed names
(`/audio/kk/greeting.3f2a….wav`), never from the working folders: deleting or replacing a file
there never breaks a version in force, and nothing else in those folders is ever served.
"""

from __future__ import annotations

import io

import redis
from flask import Blueprint, Response, abort, jsonify, send_file

from ivr.web import twiml
from ivr.web.context import voice

bp = Blueprint("public", __name__)
AUDIO_MAX_AGE = 365 * 24 * 3600  # a name is never reused for other content
MIMETYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


@bp.get(twiml.HEALTH_PATH)
def healthz() -> tuple[Response, int]:
    """Public by design, so it says only what a load balancer needs: ready, the version in
    force here, and Redis's state. What went wrong in an edit is for `ivr status`."""
    ctx = voice()
    try:
        ctx.redis.ping()
        redis_state = "ok"
    except redis.RedisError:
        redis_state = "unreachable"
    return jsonify({"status": "ok", "version": ctx.library.current.version,
                    "redis": redis_state}), 200


@bp.get(f"{twiml.AUDIO_PATH}/<language>/<name>")
def audio(language: str, name: str) -> Response:
    """A recording of a version this process serves. Not signed: Twilio fetches media plainly,
    and prompts are public."""
    found = voice().library.recording(f"{language}/{name}")
    if found is None:
        abort(404)
    recording, data = found
    response = send_file(io.BytesIO(data), mimetype=MIMETYPES.get(name.rsplit(".", 1)[-1],
                                                                  "application/octet-stream"),
                         etag=recording.digest or recording.version, conditional=True,
                         max_age=AUDIO_MAX_AGE)
    return response
