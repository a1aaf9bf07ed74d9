"""The emulator's endpoints: path matching and one small handler per operation.

Handlers take ``(state, path params, query string, body bytes, headers)`` and return an
:class:`Answer`; they raise :class:`ApiError` for OpenAI-shaped errors.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from anytune import emulator
from anytune.emulator import Answer
from anytune_openai import _catalog
from anytune_openai.emulator.state import ApiError, State, new_id
from anytune_openai.emulator.timeline import checkpoints, events

__all__ = ["Answer", "parse_multipart", "route"]

_FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_UPLOAD_MIME = ("text/jsonl", "application/jsonl", "application/json", "application/x-ndjson")


Handler = Callable[[State, dict[str, str], str, bytes, Any], Answer]


def parse_multipart(body: bytes, content_type: str) -> dict[str, str | bytes]:
    """Fields of a ``multipart/form-data`` body, or a 400 in OpenAI's shape."""
    try:
        return emulator.parse_multipart(body, content_type)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "We could not parse the JSON body of your request.") from None


def _query(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query).items()}


def _page(
    items: list[dict[str, Any]], query: dict[str, str], default: int
) -> tuple[list[dict[str, Any]], bool]:
    try:
        limit = int(query.get("limit", default))
    except ValueError:
        raise ApiError(400, "Invalid value for 'limit': expected an integer.", param="limit") from None
    if limit < 1:
        raise ApiError(400, "Invalid value for 'limit': must be at least 1.", param="limit")
    after = query.get("after")
    if after:
        ids = [i["id"] for i in items]
        if after not in ids:
            raise ApiError(400, f"Invalid value for 'after': no object {after}.", param="after")
        items = items[ids.index(after) + 1 :]
    return items[:limit], len(items) > limit


# --- files --------------------------------------------------------------------------------
def create_file(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    fields = parse_multipart(body, headers.get("Content-Type", ""))
    content, purpose = fields.get("file"), fields.get("purpose")
    if not isinstance(content, bytes):
        raise ApiError(400, "Missing required parameter: 'file'.", param="file")
    if purpose not in _FILE_PURPOSES:
        raise ApiError(400, f"Invalid value for 'purpose': {purpose!r}.", param="purpose")
    if purpose == "fine-tune" and len(content) > _catalog.catalog_data()["files_api_max_bytes"]:
        raise ApiError(400, "File is larger than 512 MB; use the Uploads API.", param="file")
    return Answer(200, state.add_file(str(fields.get("file.filename") or "upload"), content, purpose))


def list_files(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    query = _query(q)
    with state.lock:
        files = [dict(f) for f in state.files.values()]
    if query.get("purpose"):
        files = [f for f in files if f["purpose"] == query["purpose"]]
    if query.get("order", "desc") == "desc":
        files.reverse()
    page, more = _page(files, query, 10_000)
    return Answer(
        200,
        {
            "object": "list",
            "data": page,
            "has_more": more,
            "first_id": page[0]["id"] if page else "",
            "last_id": page[-1]["id"] if page else "",
        },
    )


def get_file(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    return Answer(200, state.file(p["id"]))


def file_content(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    state.file(p["id"])
    with state.lock:
        content = state.contents[p["id"]]
    return Answer(200, raw=content, content_type="application/octet-stream")


def delete_file(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    state.file(p["id"])
    with state.lock:
        state.files.pop(p["id"], None)
        state.contents.pop(p["id"], None)
    return Answer(200, {"id": p["id"], "object": "file", "deleted": True})


# --- uploads ------------------------------------------------------------------------------
def create_upload(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    req = _json(body)
    for name in ("filename", "purpose", "bytes", "mime_type"):
        if name not in req:
            raise ApiError(400, f"Missing required parameter: '{name}'.", param=name)
    if req["purpose"] not in ("assistants", "batch", "fine-tune", "vision"):
        raise ApiError(400, f"Invalid value for 'purpose': {req['purpose']!r}.", param="purpose")
    if req["purpose"] == "fine-tune" and req["mime_type"] not in _UPLOAD_MIME:
        raise ApiError(
            400, f"Invalid mime_type {req['mime_type']!r} for purpose fine-tune.", param="mime_type"
        )
    size = req["bytes"]
    if not isinstance(size, int) or not 0 < size <= _catalog.catalog_data()["max_file_bytes"]:
        raise ApiError(400, "'bytes' must be between 1 and 8 GB.", param="bytes")
    with state.lock:
        uid = new_id("upload_")
        now = int(state.clock())
        state.uploads[uid] = {
            "id": uid,
            "object": "upload",
            "bytes": size,
            "created_at": now,
            "filename": req["filename"],
            "purpose": req["purpose"],
            "status": "pending",
            "expires_at": now + 3600,
            "file": None,
            "_parts": {},
        }
        state.counts["uploads_created"] += 1
        return Answer(200, _public(state.uploads[uid]))


def _public(upload: dict[str, Any]) -> dict[str, Any]:
    # ``file`` is left out until there is one: the spec types it as a File object.
    return {k: v for k, v in upload.items() if not k.startswith("_") and not (k == "file" and v is None)}


def _pending(state: State, uid: str) -> dict[str, Any]:
    upload = state.uploads.get(uid)
    if upload is None:
        raise ApiError(404, f"No such Upload: {uid}", param="upload_id")
    if upload["status"] != "pending":
        raise ApiError(400, f"Upload {uid} is {upload['status']}, not pending.", param="upload_id")
    return upload


def add_part(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    data = parse_multipart(body, headers.get("Content-Type", "")).get("data")
    if not isinstance(data, bytes):
        raise ApiError(400, "Missing required parameter: 'data'.", param="data")
    if len(data) > _catalog.catalog_data()["upload_part_bytes"]:
        raise ApiError(400, "A part can be at most 64 MB.", param="data")
    with state.lock:
        upload = _pending(state, p["id"])
        pid = new_id("part_")
        upload["_parts"][pid] = data
        return Answer(
            200, {"id": pid, "object": "upload.part", "created_at": int(state.clock()), "upload_id": p["id"]}
        )


def complete_upload(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    req = _json(body)
    with state.lock:
        upload = _pending(state, p["id"])
        ids = req.get("part_ids")
        if not isinstance(ids, list) or any(i not in upload["_parts"] for i in ids):
            raise ApiError(400, "'part_ids' must list parts of this Upload.", param="part_ids")
        content = b"".join(upload["_parts"][i] for i in ids)
        if len(content) != upload["bytes"]:
            raise ApiError(
                400,
                f"The parts hold {len(content)} bytes; the Upload expects {upload['bytes']}.",
                param="part_ids",
            )
        md5 = req.get("md5")
        if md5 and hashlib.md5(content, usedforsecurity=False).hexdigest() != md5:
            raise ApiError(400, "The md5 checksum does not match the parts.", param="md5")
        upload["file"] = state.add_file(upload["filename"], content, upload["purpose"])
        upload["status"] = "completed"
        upload["_parts"] = {}
        return Answer(200, _public(upload))


def cancel_upload(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    with state.lock:
        upload = _pending(state, p["id"])
        upload["status"] = "cancelled"
        upload["_parts"] = {}
        return Answer(200, _public(upload))


# --- fine-tuning jobs ---------------------------------------------------------------------
def create_job(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    return Answer(200, state.create_job(_json(body)))


def list_jobs(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    query = _query(q)
    wanted = {k[9:-1]: v for k, v in query.items() if k.startswith("metadata[") and k.endswith("]")}
    with state.lock:
        jobs = [state.job_json(j) for j in reversed(list(state.jobs.values()))]
    if wanted:
        jobs = [j for j in jobs if all((j["metadata"] or {}).get(k) == v for k, v in wanted.items())]
    page, more = _page(jobs, query, 20)
    return Answer(200, {"object": "list", "data": page, "has_more": more})


def get_job(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    return Answer(200, state.job_json(state.job(p["id"])))


def cancel_job(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    return Answer(200, state.cancel_job(p["id"]))


def list_events(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    page, more = _page(events(state, state.job(p["id"])), _query(q), 20)
    return Answer(200, {"object": "list", "data": page, "has_more": more})


def list_checkpoints(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    page, more = _page(checkpoints(state, state.job(p["id"])), _query(q), 10)
    return Answer(
        200,
        {
            "object": "list",
            "data": page,
            "has_more": more,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        },
    )


_ID = r"(?P<id>[A-Za-z0-9_\-]+)"
def _chat_completion(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    from anytune_openai.emulator.chat import chat_completion

    return chat_completion(state, p, q, body, headers)


# (method, path pattern under /v1, fault operation, handler)
_ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (m, re.compile(f"^/v1{pat}$"), op, h)
    for m, pat, op, h in [
        ("POST", "/files", "upload", create_file),
        ("GET", "/files", "list", list_files),
        ("GET", f"/files/{_ID}", "get", get_file),
        ("DELETE", f"/files/{_ID}", "get", delete_file),
        ("GET", f"/files/{_ID}/content", "get", file_content),
        ("POST", "/uploads", "upload", create_upload),
        ("POST", f"/uploads/{_ID}/parts", "upload", add_part),
        ("POST", f"/uploads/{_ID}/complete", "upload", complete_upload),
        ("POST", f"/uploads/{_ID}/cancel", "upload", cancel_upload),
        ("POST", "/fine_tuning/jobs", "create", create_job),
        ("GET", "/fine_tuning/jobs", "list", list_jobs),
        ("GET", f"/fine_tuning/jobs/{_ID}", "get", get_job),
        ("POST", f"/fine_tuning/jobs/{_ID}/cancel", "cancel", cancel_job),
        ("GET", f"/fine_tuning/jobs/{_ID}/events", "events", list_events),
        ("GET", f"/fine_tuning/jobs/{_ID}/checkpoints", "checkpoints", list_checkpoints),
        ("POST", "/chat/completions", "chat", _chat_completion),
    ]
]


def route(method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
    """(fault operation, handler, path params) for a request; no handler for unknown paths."""
    for m, pattern, operation, handler in _ROUTES:
        match = pattern.match(path)
        if match and m == method:
            return operation, handler, match.groupdict()
    return "", None, {}
