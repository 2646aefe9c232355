"""multipart/form-data as the fakes read it (files sent to Telegram, recordings to the
transcription service)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any


def parse(body: bytes, boundary: str, json_fields: Collection[str] = ()) -> dict[str, Any]:
    """A multipart/form-data body: text fields as str (``json_fields`` read as JSON), files
    as (name, content type, bytes)."""
    params: dict[str, Any] = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part[2:].partition(b"\r\n\r\n")
        value = value.removesuffix(b"\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        disposition = headers.get("Content-Disposition", "")
        name = disposition.split('name="', 1)[1].split('"', 1)[0]
        if 'filename="' in disposition:
            filename = disposition.split('filename="', 1)[1].split('"', 1)[0]
            params[name] = (filename, headers.get("Content-Type", ""), value)
        else:
            params[name] = json.loads(value) if name in json_fields else value.decode()
    return params
