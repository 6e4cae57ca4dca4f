"""JSON on the webhooks' path (the calls' logs, the waiting line): orjson when it is installed
(the server extra brings it), else the standard library, with the same text either way: compact,
and UTF-8 rather than escapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def _std_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


dumps: Callable[[Any], str] = _std_dumps
loads: Callable[[str | bytes], Any] = json.loads
try:
    import orjson
except ImportError:  # the standard library's, above
    pass
else:
    def _orjson_dumps(value: Any) -> str:
        text: str = orjson.dumps(value).decode()
        return text

    dumps, loads = _orjson_dumps, orjson.loads
