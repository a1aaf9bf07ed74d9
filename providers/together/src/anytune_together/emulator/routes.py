"""The emulator's routes: the paths the official ``together`` SDK calls, with answers
shaped as Together's OpenAPI spec says (a trimmed copy: ``tests/spec/openapi.yaml``).

The SDK's upload is a three-step flow that the spec does not list: ``POST /v1/files``
answers 302 with a presigned ``Location`` and ``X-Together-File-Id`` (or 409 with the
existing ``file_id`` for a checksum already stored), the SDK PUTs the bytes there, then
``POST /v1/files/{id}/preprocess`` runs Together's check and returns the file. The
spec's one-shot ``POST /v1/files/upload`` (multipart, what cURL users call) is served too.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from typing import Any
from urllib.parse import parse_qs

from anytune.emulator import Answer, ApiError, Router, new_id, parse_multipart
from anytune_together import _catalog
from anytune_together.emulator.catalog import VendorModels, add_catalog_routes
from anytune_together.emulator.state import File, Job, State, file_tokens, iso

__all__ = ["UPLOAD_PREFIX", "Routes", "error_body"]

UPLOAD_PREFIX = "/v1/_emulator/uploads/"
USER_ID = "user_emulator0000000000"


def error_body(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    """Together's ``ErrorData`` shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _refuse(status: int, message: str, code: str | None = None) -> ApiError:
    return ApiError(status, error_body(message, code=code))


def _fields(body: bytes, headers: Any) -> dict[str, Any]:
    ctype = headers.get("Content-Type", "")
    if "boundary=" in ctype:
        return dict(parse_multipart(body, ctype))
    if not body:
        return {}
    try:
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {}
    except ValueError:
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        raise _refuse(400, "the request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise _refuse(400, "the request body must be a JSON object")
    return parsed


class Routes:
    """Handlers over one :class:`State`; ``base_url`` builds presigned upload URLs."""

    def __init__(self, state: State, base_url: Any) -> None:
        self.state = state
        self.base_url = base_url
        self.router = Router()
        #: The models "Together" tunes today (:mod:`.catalog`).
        self.vendor = VendorModels()
        add_catalog_routes(self.router, self.vendor, _refuse)
        r = self.router.add
        r("POST", "/v1/files", "upload", self.files_reserve)
        r("POST", "/v1/files/upload", "upload", self.files_upload)
        r("PUT", UPLOAD_PREFIX + "{file_id}", "upload", self.files_put)
        r("POST", "/v1/files/{file_id}/preprocess", "upload", self.files_preprocess)
        r("GET", "/v1/files", "list", self.files_list)
        r("GET", "/v1/files/{file_id}", "get", self.files_get)
        r("GET", "/v1/files/{file_id}/content", "get", self.files_content)
        r("POST", "/v1/fine-tunes/estimate-price", "estimate", self.estimate_price)
        r("POST", "/v1/fine-tunes", "create", self.jobs_create)
        r("GET", "/v1/fine-tunes", "list", self.jobs_list)
        r("GET", "/v1/fine-tunes/{job_id}", "get", self.jobs_get)
        r("POST", "/v1/fine-tunes/{job_id}/cancel", "cancel", self.jobs_cancel)
        r("GET", "/v1/fine-tunes/{job_id}/events", "events", self.jobs_events)
        r("GET", "/v1/fine-tunes/{job_id}/checkpoints", "checkpoints", self.jobs_checkpoints)
        r("GET", "/v1/fine-tunes/{job_id}/metrics", "metrics", self.jobs_metrics)
        r("GET", "/v1/finetune/download", "get", self.download)
        r("POST", "/v1/chat/completions", "chat", self.chat_completions)

    # --- files --------------------------------------------------------------------------------
    def chat_completions(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        from anytune_together.emulator.chat import chat_completion

        return chat_completion(self.state, params, query, body, headers)

    def _stored(self, checksum: str, purpose: str) -> File | None:
        return next(
            (f for f in self.state.files.values()
             if f.processed and f.checksum == checksum and f.purpose == purpose),
            None,
        )

    def _file(self, file_id: str) -> File:
        f = self.state.files.get(file_id)
        if f is None or f.content is None:
            raise _refuse(404, f"file {file_id} not found", "not_found")
        return f

    def _check(self, f: File) -> None:
        """Together's server-side check: JSONL records in a known format."""
        _, problem = file_tokens(f.content or b"")
        if problem is not None:
            raise _refuse(400, f"file check failed: {problem}", "invalid_file")
        if not f.processed:
            f.processed = True
            self.state.counts["files_created"] += 1

    def files_reserve(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        form = _fields(body, headers)
        purpose, checksum = str(form.get("purpose") or ""), str(form.get("checksum") or "")
        if purpose != "fine-tune" or not form.get("file_name"):
            raise _refuse(400, "purpose must be fine-tune and file_name is required")
        with self.state.lock:
            existing = self._stored(checksum, purpose) if checksum else None
            if existing is not None:  # the SDK then fetches it: an upload stored once
                return Answer(409, {"file_id": existing.id, "message": "file already exists"})
            f = File(new_id("file-"), str(form["file_name"]), purpose, checksum,
                     int(self.state.clock()), secrets.token_hex(12))
            self.state.files[f.id] = f
        location = f"{self.base_url()}{UPLOAD_PREFIX}{f.id}?token={f.token}"
        return Answer(302, {}, headers={"Location": location, "X-Together-File-Id": f.id})

    def files_put(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            f = self.state.files.get(params["file_id"])
            token = parse_qs(query).get("token", [""])[0]
            if f is None or not secrets.compare_digest(token, f.token):
                raise _refuse(403, "the upload URL is not valid")
            if hashlib.sha256(body).hexdigest() != f.checksum and f.checksum:
                raise _refuse(400, "the content does not match the checksum")
            f.content = body
        return Answer(200, {})

    def files_preprocess(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            f = self._file(params["file_id"])
            same = self._stored(f.checksum, f.purpose)
            if same is not None and same is not f:  # a lost answer retried: the stored one
                return Answer(200, same.to_json())
            self._check(f)
            return Answer(200, f.to_json())

    def files_upload(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        form = _fields(body, headers)
        content = form.get("file")
        if form.get("purpose") != "fine-tune" or not isinstance(content, bytes) or not form.get("file_name"):
            raise _refuse(400, "purpose, file_name and file are required")
        with self.state.lock:
            checksum = hashlib.sha256(content).hexdigest()
            existing = self._stored(checksum, "fine-tune")
            if existing is not None:
                return Answer(200, existing.to_json())
            f = File(new_id("file-"), str(form["file_name"]), "fine-tune", checksum,
                     int(self.state.clock()), "", content)
            self.state.files[f.id] = f
            self._check(f)
            return Answer(200, f.to_json())

    def files_list(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            return Answer(200, {"data": [f.to_json() for f in self.state.files.values() if f.processed]})

    def files_get(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            return Answer(200, self._file(params["file_id"]).to_json())

    def files_content(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            content = self._file(params["file_id"]).content
            return Answer(200, raw=content, content_type="application/octet-stream")

    # --- estimate -----------------------------------------------------------------------------
    def _tokens(self, file_id: str | None) -> int:
        if not file_id:
            return 0
        return file_tokens(self._file(file_id).content or b"")[0]

    def estimate_price(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        req = _json(body)
        with self.state.lock:
            train = self._tokens(str(req.get("training_file") or "") or None)
            valid = self._tokens(req.get("validation_file"))
        epochs, evals = int(req.get("n_epochs") or 1), int(req.get("n_evals") or 0)
        kind = "full" if (req.get("training_type") or {}).get("type") == "Full" else "lora"
        method = (req.get("training_method") or {}).get("method", "sft")
        rate = _catalog.price_per_million(str(req.get("model") or ""), method, kind) or 0.0
        tokens = epochs * train + evals * valid
        return Answer(200, {
            "estimation_available": True, "estimated_total_price": round(rate * tokens / 1_000_000, 6),
            "allowed_to_proceed": True, "user_limit": 1000.0,
            "estimated_train_token_count": epochs * train, "estimated_eval_token_count": evals * valid,
        })

    # --- jobs ---------------------------------------------------------------------------------
    def _job(self, job_id: str) -> Job:
        job = self.state.jobs.get(job_id)
        if job is None:
            raise _refuse(404, f"fine-tune job {job_id} not found", "not_found")
        return job

    def job_json(self, job: Job, *, full: bool = True) -> dict[str, Any]:
        """The spec's ``FinetuneResponse`` (or the truncated one for lists)."""
        s = self.state
        status = s.status(job)
        req = job.request
        now = s.clock()
        out: dict[str, Any] = {
            "id": job.id, "status": status, "user_id": USER_ID, "created_at": iso(job.created),
            "updated_at": iso(min(now, s.at(job, 1.0)) if job.cancelled_at is None else job.cancelled_at),
            "model": req["model"], "training_file": req["training_file"], "n_epochs": job.epochs,
            "n_checkpoints": int(req.get("n_checkpoints") or 1), "n_evals": int(req.get("n_evals") or 0),
            # Together reports what it ran: "max" resolved to the model's largest batch.
            "batch_size": req.get("batch_size") if isinstance(req.get("batch_size"), int) else 32,
            "learning_rate": float(req.get("learning_rate") or 1e-5),
            "token_count": job.token_count(), "total_price": s.price_nanodollars(job),
        }
        for key in ("validation_file", "suffix", "training_type", "warmup_ratio", "random_seed",
                    "wandb_name", "packing"):
            if req.get(key) is not None:
                out[key] = req[key]
        # The scheduler's args are left out: the spec's oneOf of cosine/linear args cannot
        # tell them apart (both match), so only the type is reported.
        if isinstance(req.get("lr_scheduler"), dict):
            kind = req["lr_scheduler"].get("lr_scheduler_type", "cosine")
            out["lr_scheduler"] = {"lr_scheduler_type": kind}
        method = dict(req.get("training_method") or {"method": "sft"})
        if method.get("train_on_inputs") == "auto":  # resolved as Together does for chat data
            method["train_on_inputs"] = False
        out["training_method"] = method
        if status == "completed":
            out["model_output_name"] = job.extra["output_name"]
        if full:
            out["events"] = self.events(job)
            out["epochs_completed"] = s.step(job) // 10
        return out

    def jobs_create(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        req = _json(body)
        for key in ("training_file", "model"):
            if not isinstance(req.get(key), str) or not req[key]:
                raise _refuse(400, f"{key} is required", "missing_field")
        if self.vendor.get(req["model"]) is None:
            raise _refuse(400, f"model {req['model']} is not available for fine-tuning", "invalid_model")
        with self.state.lock:
            train = self._file(req["training_file"])
            tokens, problem = file_tokens(train.content or b"")
            valid = self._tokens(req.get("validation_file"))
            job = Job(new_id("ft-", 20), self.state.clock(), req, tokens, valid, problem)
            short = req["model"].split("/")[-1]
            job.extra["output_name"] = f"emulator/{short}-{req.get('suffix') or 'ft'}-{job.id[3:11]}"
            self.state.jobs[job.id] = job
            self.state.counts["jobs_created"] += 1
            return Answer(200, self.job_json(job, full=False))

    def jobs_list(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            jobs = sorted(self.state.jobs.values(), key=lambda j: j.created)
            return Answer(200, {"data": [self.job_json(j, full=False) for j in jobs]})

    def jobs_get(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            return Answer(200, self.job_json(self._job(params["job_id"])))

    def jobs_cancel(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            job = self._job(params["job_id"])
            if self.state.status(job) in ("completed", "error", "cancelled"):
                raise _refuse(400, f"job {job.id} has already ended", "job_not_cancellable")
            if job.cancelled_at is None:
                job.cancelled_at = self.state.clock()
            return Answer(200, self.job_json(job, full=False))

    def events(self, job: Job) -> list[dict[str, Any]]:
        """Every event so far, oldest first (Together's ``FineTuneEvent``)."""
        s = self.state
        marks: list[tuple[float, str, str, str]] = [(0.0, "job_pending", "info", "Fine-tune job created")]
        marks += [(0.2, "job_start", "info", "Job started"),
                  (0.21, "training_data_download_complete", "info", "Training data downloaded"),
                  (0.22, "training_start", "info", "Training started")]
        for e in range(1, job.epochs + 1):
            marks.append((0.2 + 0.6 * e / job.epochs, "epoch_complete", "info", f"Epoch {e} complete"))
        n_ckpt = int(job.request.get("n_checkpoints") or 1)
        for i in range(1, n_ckpt + 1):
            marks.append((0.2 + 0.6 * i / n_ckpt - 1e-6, "checkpoint_save", "info", f"Checkpoint {i} saved"))
        marks += [(0.8, "training_complete", "info", "Training complete"),
                  (0.8, "model_compressing", "info", "Compressing the model"),
                  (0.9, "model_uploading", "info", "Uploading the model"),
                  (1.0, "model_upload_complete", "info", "Model uploaded"),
                  (1.0, "job_complete", "info", "Fine-tune job completed")]
        now = s.clock() if job.cancelled_at is None else job.cancelled_at
        if job.problem is not None:
            marks = [*marks[:1], (0.2, "job_error", "error", f"Training file check failed: {job.problem}")]
        marks.sort(key=lambda m: m[0])  # stable: same-time events keep their order
        out = [self._event(job, f, kind, level, message) for f, kind, level, message in marks
               if s.at(job, f) <= now]
        if job.cancelled_at is not None:
            out.append(self._event(job, None, "cancel_requested", "info", "Cancel requested"))
            if s.status(job) == "cancelled":
                out.append(self._event(job, None, "job_stopped", "info", "Job cancelled"))
        return out

    def _event(self, job: Job, f: float | None, kind: str, level: str, message: str) -> dict[str, Any]:
        at = self.state.at(job, f) if f is not None else job.cancelled_at or self.state.clock()
        step = job.total_steps if f is None else max(0, min(job.total_steps, math.floor((f - 0.2) / 0.6
                                                                                       * job.total_steps)))
        return {
            "object": "fine-tune-event", "created_at": iso(at), "level": level, "message": message,
            "type": kind, "param_count": 0, "token_count": job.token_count(), "total_steps": job.total_steps,
            "wandb_url": "", "step": step, "checkpoint_path": "", "model_path": "", "training_offset": 0,
            "hash": hashlib.sha256(f"{job.id}:{kind}:{message}".encode()).hexdigest()[:24],
        }

    def jobs_events(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            return Answer(200, {"data": self.events(self._job(params["job_id"]))})

    def jobs_checkpoints(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            job = self._job(params["job_id"])
            n = int(job.request.get("n_checkpoints") or 1)
            done = self.state.step(job)
            data = []
            for i in range(1, n + 1):
                step = job.total_steps * i // n
                if step <= done and (i < n or self.state.status(job) == "completed"):
                    data.append({"step": step, "created_at": iso(self.state.at(job, 0.2 + 0.6 * i / n)),
                                 "path": f"s3://together-emulator/{job.id}/checkpoint-{step}",
                                 "checkpoint_type": "Final" if i == n else f"Intermediate (step {step})"})
            return Answer(200, {"data": data[::-1]})

    def jobs_metrics(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self.state.lock:
            job = self._job(params["job_id"])
            rows = [{"train/loss": round(2.0 * math.exp(-step / job.total_steps) + 0.3, 6),
                     "train/learning_rate": 1e-5 * (1 - step / (job.total_steps + 1)),
                     "train/epoch": step / 10, "train/global_step": step}
                    for step in range(1, self.state.step(job) + 1)]
            return Answer(200, {"metrics": rows})

    def download(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        q = parse_qs(query)
        with self.state.lock:
            job = self._job(q.get("ft_id", [""])[0])
            if self.state.status(job) != "completed":
                raise _refuse(400, f"job {job.id} has no model yet", "not_ready")
            full = (job.request.get("training_type") or {}).get("type") == "Full"
            kind = q.get("checkpoint", ["model_output_path" if full else "merged"])[0]
            allowed = ("model_output_path",) if full else ("adapter", "merged")
            if kind not in allowed:
                raise _refuse(400, f"checkpoint must be one of {list(allowed)}, got {kind!r}")
            return Answer(200, raw=weights_archive(job.id, str(job.request.get("model") or ""), kind),
                          content_type="application/octet-stream")


def weights_archive(job_id: str, model: str, kind: str) -> bytes:
    """What ``/v1/finetune/download`` serves: a zstd-compressed tar (Together's default,
    ``.tar.zst`` in the SDK) of a LoRA adapter or a whole model. The safetensors files are
    valid but empty (a header only): enough for a client to find and parse them."""
    from anytune_together._download import build_archive

    header = json.dumps({"__metadata__": {"emulator": "together", "job": job_id}}).encode()
    tensors = len(header).to_bytes(8, "little") + header
    if kind == "adapter":
        config = {"base_model_name_or_path": model, "peft_type": "LORA", "r": 8, "lora_alpha": 16,
                  "target_modules": ["q_proj", "v_proj"], "task_type": "CAUSAL_LM"}
        files = {"adapter_config.json": json.dumps(config).encode(), "adapter_model.safetensors": tensors}
    else:
        files = {"config.json": json.dumps({"_name_or_path": model}).encode(), "model.safetensors": tensors}
    return build_archive(files)
