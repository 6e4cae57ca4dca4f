"""What the safe path says: the answer to every failure, which must always be possible.

When anything fails (an exception, Redis unreachable, the Fallback URL), the caller hears the
`fallback` prompt in Kazakh then Russian, is put through to the national line and then the
emergency desk with `hold` in between, and if nobody answers hears `all_busy`. The web layer
renders it (`ivr.web.twiml.SafePath`); the library refuses any version that lacks one of these
prompts in one of these languages.
"""

from __future__ import annotations

SAFE_LANGUAGES = ("kk", "ru")
FALLBACK, HOLD, ALL_BUSY = "fallback", "hold", "all_busy"
SAFE_PROMPTS = (FALLBACK, HOLD, ALL_BUSY)
