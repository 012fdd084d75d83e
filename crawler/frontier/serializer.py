"""JSON serialization of requests for the shared Redis queue (``SCHEDULER_SERIALIZER``).

scrapy-redis pickles requests by default, so anyone who can write to Redis runs code on every worker (field notes
§1). JSON carries only data. ``request_to_dict`` gives bytes for the body and headers; they travel as base64 under
a one-key object ``{"$b": "..."}``, so every other value must already be JSON (our requests' meta is).
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "$b"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k if not isinstance(k, bytes) else k.decode("latin-1")): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _BYTES in value:
            return base64.b64decode(value[_BYTES])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(obj: dict) -> str:
    return json.dumps(_encode(obj), separators=(",", ":"), allow_nan=False)


def loads(data: str | bytes) -> dict:
    return _decode(json.loads(data))
