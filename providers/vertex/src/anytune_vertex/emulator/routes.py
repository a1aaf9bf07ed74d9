"""The emulator's routes: Vertex AI ``tuningJobs`` (v1 and v1beta1) and the Cloud Storage
JSON API upload and object routes, as google-genai and google-cloud-storage call them."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from anytune.emulator import Answer, Router
from anytune_vertex.emulator.state import ApiError, Job, State, rfc3339

__all__ = ["build_router", "render_job"]

_PARENT = "/{version}/projects/{project}/locations/{location}"
_VERSIONS = ("v1", "v1beta1")


def render_job(state: State, job: Job) -> dict[str, Any]:
    """The ``TuningJob`` JSON of ``job`` now."""
    status = state.state_of(job)
    t = state.job_seconds
    out = dict(job.body)
    out.update(name=job.name, state=status, createTime=rfc3339(job.created),
               updateTime=rfc3339(min(state.clock(), job.created + t)))
    started = job.cancelled_at is None or job.cancelled_at >= job.created + 0.1 * t
    if status != "JOB_STATE_PENDING" and started:
        out["startTime"] = rfc3339(job.created + 0.1 * t)
        stats_key = "supervisedTuningDataStats" if job.method == "sft" else "preferenceOptimizationDataStats"
        out["tuningDataStats"] = {stats_key: {
            "tuningDatasetExampleCount": str(job.check.examples),
            "totalBillableTokenCount": str(job.check.billable_tokens),
            "tuningStepCount": str(max(1, job.check.examples) * job.epochs),
        }}
    if status in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
        ended = job.created + t if job.cancelled_at is None else job.cancelled_at + min(0.5, 0.1 * t)
        out["endTime"] = rfc3339(ended)
        out["updateTime"] = out["endTime"]
    if status == "JOB_STATE_FAILED":
        out["error"] = {"code": 3, "message": job.check.error or "tuning failed"}
    if status == "JOB_STATE_CANCELLED":
        out["error"] = {"code": 1, "message": "CANCELED"}
    if status == "JOB_STATE_SUCCEEDED":
        number = job.name.rsplit("/", 1)[-1]
        parent = job.name.split("/tuningJobs/")[0]
        endpoint = f"{parent}/endpoints/{number}"
        steps = max(1, job.check.examples)
        out["tunedModel"] = {
            "model": f"{parent}/models/{number}@1",
            "endpoint": endpoint,
            "checkpoints": [
                {"checkpointId": str(e), "epoch": str(e), "step": str(steps * e), "endpoint": endpoint}
                for e in range(1, job.epochs + 1)
            ],
        }
    return out


def _body(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Invalid JSON payload received.") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "Invalid JSON payload received: expected an object.")
    return doc


def _query(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _parent(p: dict[str, str]) -> str:
    return f"projects/{p['project']}/locations/{p['location']}"


# --- Vertex tuningJobs --------------------------------------------------------------------------
def _create(state: State, p: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
    job = state.create_job(_parent(p), _body(body))
    return Answer(200, render_job(state, job))


def _get(state: State, p: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
    return Answer(200, render_job(state, state.job(f"{_parent(p)}/tuningJobs/{p['job']}")))


def _list(state: State, p: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
    q = _query(query)
    try:
        size = max(1, min(100, int(q.get("pageSize") or 50)))
        start = int(q.get("pageToken") or 0)
    except ValueError:
        raise ApiError(400, "Invalid pageSize or pageToken.") from None
    parent = _parent(p)
    with state.lock:
        jobs = sorted((j for j in state.jobs.values() if j.name.startswith(parent + "/")),
                      key=lambda j: j.created, reverse=True)
        page = [render_job(state, j) for j in jobs[start:start + size]]
    out: dict[str, Any] = {"tuningJobs": page} if page else {}
    if start + size < len(jobs):
        out["nextPageToken"] = str(start + size)
    return Answer(200, out)


def _cancel(state: State, p: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
    state.cancel(f"{_parent(p)}/tuningJobs/{p['job']}")
    return Answer(200, {})


# --- Cloud Storage JSON API ---------------------------------------------------------------------
def _multipart_related(body: bytes, content_type: str) -> tuple[dict[str, Any], bytes, str]:
    """(metadata, data, data content type) of a ``multipart/related`` upload body."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ApiError(400, "Multipart upload without a boundary.")
    boundary = b"--" + match.group(1).encode()
    parts = [p for p in body.split(boundary)[1:] if not p.startswith(b"--")]
    if len(parts) != 2:
        raise ApiError(400, "A multipart upload has exactly two parts: metadata and media.")
    sections = []
    for part in parts:
        head, _, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        sections.append((head.decode("latin-1"), content[:-2] if content.endswith(b"\r\n") else content))
    metadata = _body(sections[0][1])
    media_type = re.search(r"(?im)^content-type:\s*(.+)$", sections[1][0])
    return metadata, sections[1][1], media_type.group(1).strip() if media_type else ""


def _upload(state: State, p: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
    q = _query(query)
    kind = q.get("uploadType", "")
    if kind == "multipart":
        metadata, data, media_type = _multipart_related(body, headers.get("Content-Type", ""))
        name = metadata.get("name") or q.get("name")
        if not name:
            raise ApiError(400, "Required: object name.")
        obj = state.put_object(p["bucket"], str(name), data, str(metadata.get("contentType") or media_type),
                               q.get("ifGenerationMatch"))
        return Answer(200, obj.resource())
    if kind == "media":
        if not q.get("name"):
            raise ApiError(400, "Required: object name.")
        obj = state.put_object(p["bucket"], q["name"], body, headers.get("Content-Type", ""),
                               q.get("ifGenerationMatch"))
        return Answer(200, obj.resource())
    if kind == "resumable":
        return _resumable(state, p, q, body, headers)
    raise ApiError(400, f"Unsupported uploadType {kind!r}.")


def _resumable(state: State, p: dict[str, str], q: dict[str, str], body: bytes, headers: Any) -> Answer:
    sessions: dict[str, dict[str, Any]] = state.__dict__.setdefault("sessions", {})
    upload_id = q.get("upload_id")
    if upload_id is None:  # start a session
        metadata = _body(body)
        upload_id = f"upload-{len(sessions) + 1}"
        with state.lock:
            sessions[upload_id] = {"metadata": metadata, "data": b"", "query": q}
        path = f"/upload/storage/v1/b/{quote(p['bucket'])}/o?uploadType=resumable&upload_id={upload_id}"
        return Answer(200, {}, headers={"Location": f"http://{headers.get('Host', '127.0.0.1')}{path}"})
    session = sessions.get(upload_id)
    if session is None:
        raise ApiError(404, "No such upload session.")
    match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", headers.get("Content-Range", ""))
    # A chunk lands at its own offset, so a re-sent chunk replaces rather than repeats.
    start = int(match.group(1)) if match else len(session["data"])
    session["data"] = session["data"][:start] + body
    total = match.group(3) if match else str(len(session["data"]))
    if total == "*" or len(session["data"]) < int(total):
        return Answer(308, None, raw=b"", headers={"Range": f"bytes=0-{len(session['data']) - 1}"})
    meta = session["metadata"]
    name = str(meta.get("name") or session["query"].get("name"))
    obj = state.put_object(p["bucket"], name, session["data"], str(meta.get("contentType") or ""),
                           session["query"].get("ifGenerationMatch"))
    return Answer(200, obj.resource())


def _object(state: State, p: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
    obj = state.get_object(p["bucket"], unquote(p["object"]))
    if _query(query).get("alt") == "media":
        return Answer(200, raw=obj.data, content_type=obj.content_type)
    return Answer(200, obj.resource())


def build_router(state: State) -> Router:
    """Every route the emulator serves, bound to ``state``."""
    router = Router()

    def bind(fn: Any) -> Any:
        def handler(p: dict[str, str], q: str, b: bytes, h: Any) -> Answer:
            if p.get("version", "v1") not in _VERSIONS:
                raise ApiError(404, f"Unknown API version {p['version']}.")
            result: Answer = fn(state, p, q, b, h)
            return result

        return handler

    router.add("POST", "/upload/storage/v1/b/{bucket}/o", "upload", bind(_upload))
    router.add("PUT", "/upload/storage/v1/b/{bucket}/o", "upload", bind(_upload))
    router.add("GET", "/storage/v1/b/{bucket}/o/{object}", "get_object", bind(_object))
    router.add("GET", "/download/storage/v1/b/{bucket}/o/{object}", "get_object", bind(_object))
    router.add("POST", _PARENT + "/tuningJobs", "create", bind(_create))
    router.add("GET", _PARENT + "/tuningJobs", "list", bind(_list))
    router.add("POST", _PARENT + "/tuningJobs/{job}:cancel", "cancel", bind(_cancel))
    router.add("GET", _PARENT + "/tuningJobs/{job}", "get", bind(_get))
    from anytune_vertex.emulator.chat import generate_on_endpoint, generate_on_model

    router.add("POST", _PARENT + "/endpoints/{endpoint}:generateContent", "chat", bind(generate_on_endpoint))
    router.add("POST", _PARENT + "/publishers/{publisher}/models/{model}:generateContent", "chat",
               bind(generate_on_model))
    return router
