"""Request bodies for emulators: multipart form fields, and what a record keeps of a body.

Public through :mod:`anytune.emulator`.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["loggable_request", "parse_multipart"]


def parse_multipart(body: bytes, content_type: str) -> dict[str, str | bytes]:
    """Fields of a ``multipart/form-data`` body: text fields as ``str``, files as bytes
    (and ``<name>.filename``). ``ValueError`` when there is no boundary."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ValueError("multipart body without a boundary")
    boundary = b"--" + match.group(1).encode()
    fields: dict[str, str | bytes] = {}
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        content = content[:-2] if content.endswith(b"\r\n") else content
        disposition = re.search(rb'name="([^"]*)"(?:; filename="([^"]*)")?', head)
        if not disposition:
            continue
        name = disposition.group(1).decode()
        if disposition.group(2) is not None:
            fields[name] = content
            fields[f"{name}.filename"] = disposition.group(2).decode()
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields


def loggable_request(body: bytes, content_type: str) -> Any:
    """What an exchange record keeps of a request body: parsed JSON, multipart text
    fields (files as ``"<binary>"``), or ``None``."""
    if content_type.startswith("application/json") and body:
        try:
            return json.loads(body)
        except ValueError:
            return None
    if content_type.startswith("multipart/form-data"):
        try:
            fields = parse_multipart(body, content_type)
        except ValueError:
            return None
        return {
            k: (v if isinstance(v, str) else "<binary>")
            for k, v in fields.items()
            if not k.endswith(".filename")
        }
    return None
