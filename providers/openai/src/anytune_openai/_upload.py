"""Uploading training files: the Files API, or the Uploads API in parts for big files.

An upload must never be repeated after it succeeded (that would store, and bill storage
for, the same data twice). So the requests that create a file (``POST /files`` and
``POST /uploads/{id}/complete``) run with the SDK's retries off, and after an ambiguous
failure (timeout, dropped connection, 5xx) we look for the file among the account's
files by its name, which carries the content hash, before trying again. Parts keep the
SDK's retries: a part sent twice is an orphan the Upload ignores.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anytune.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from anytune.provider import Backoff
from anytune_openai._errors import translating

__all__ = ["Uploader", "upload_name"]

log = logging.getLogger("anytune.openai")

Progress = Callable[[int, int], None]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_name(path: Path, sha256: str) -> str:
    """The file name sent to OpenAI: the user's stem plus a content hash, so an upload
    whose answer was lost can be found again, and never confused with another file."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in path.stem)[:40] or "data"
    return f"{stem}-{sha256[:16]}.jsonl"


class Uploader:
    """One upload, driven through a sync ``openai.OpenAI`` client."""

    #: Retry budget for the requests that create a file (after recovery found nothing).
    attempts = 4
    #: anytune's one backoff policy, at the openai SDK's own pace (0.5 s doubling to 8 s:
    #: ``INITIAL_RETRY_DELAY``/``MAX_RETRY_DELAY`` in ``openai/_constants.py``, 3.57.0).
    backoff = Backoff(initial=0.5, factor=2.0, cap=8.0, jitter=0.25)

    def __init__(
        self,
        client: Any,
        *,
        part_bytes: int,
        threshold_bytes: int,
        progress: Progress | None,
        secrets: tuple[str, ...],
    ) -> None:
        self.client = client
        self.part_bytes = part_bytes
        self.threshold_bytes = threshold_bytes
        self.progress = progress
        self.secrets = secrets

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)
        log.info("openai upload: %d/%d bytes", done, total)

    def run(self, path: Path) -> str:
        """Upload ``path`` (purpose ``fine-tune``); return the OpenAI file id."""
        size = path.stat().st_size
        name = upload_name(path, _sha256(path))
        if size > self.threshold_bytes:
            return self._in_parts(path, name, size)
        no_retry = self.client.with_options(max_retries=0)

        def send() -> str:
            with path.open("rb") as fh:
                created = no_retry.files.create(file=(name, fh, "application/jsonl"), purpose="fine-tune")
            self._report(size, size)
            return str(created.id)

        return self._create_once(send, name, size)

    def _in_parts(self, path: Path, name: str, size: int) -> str:
        with translating(self.secrets):
            upload = self.client.uploads.create(
                bytes=size, filename=name, mime_type="text/jsonl", purpose="fine-tune"
            )
        part_ids: list[str] = []
        md5 = hashlib.md5(usedforsecurity=False)
        done = 0
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(self.part_bytes), b""):
                    with translating(self.secrets):
                        part = self.client.uploads.parts.create(upload.id, data=chunk)
                    part_ids.append(str(part.id))
                    md5.update(chunk)
                    done += len(chunk)
                    self._report(done, size)
            no_retry = self.client.with_options(max_retries=0)

            def complete() -> str:
                done_upload = no_retry.uploads.complete(upload.id, part_ids=part_ids, md5=md5.hexdigest())
                if done_upload.file is None:
                    raise ProviderError("the Upload completed without a file", provider="openai")
                return str(done_upload.file.id)

            return self._create_once(complete, name, size)
        except BaseException:
            self._cancel_quietly(str(upload.id))
            raise

    def _cancel_quietly(self, upload_id: str) -> None:
        try:
            self.client.uploads.cancel(upload_id)
        except Exception:  # the failure being raised matters more than this cleanup
            log.debug("openai upload: could not cancel %s", upload_id)

    def _create_once(self, send: Callable[[], str], name: str, size: int) -> str:
        """Run ``send`` until it succeeds; after an ambiguous failure, first look for the
        file it may have created. Rate limits certainly created nothing."""
        for attempt in range(self.attempts):
            try:
                with translating(self.secrets):
                    return send()
            except (ProviderConnectionError, ProviderTimeoutError, ServerError, RateLimitError) as exc:
                if not isinstance(exc, RateLimitError):
                    try:
                        found = self.find_existing(name, size)
                    except ProviderError:
                        # Cannot tell whether the file exists: resending could store it
                        # twice, so report the original failure instead.
                        raise exc from None
                    if found is not None:
                        log.info("openai upload: recovered %s after %s", found, type(exc).__name__)
                        self._report(size, size)
                        return found
                if attempt == self.attempts - 1:
                    raise
                delay = self.backoff.retry_delay(attempt, exc)
                log.info("openai upload: %s, retrying in %.1fs", type(exc).__name__, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def find_existing(self, name: str, size: int) -> str | None:
        """The id of a processed ``fine-tune`` file with this name and size, if any."""
        with translating(self.secrets):
            # Newest first; the file we lost was created seconds ago, so one page suffices.
            page = self.client.files.list(purpose="fine-tune", order="desc", limit=100)
            for f in page.data:
                if f.filename == name and f.bytes == size:
                    return str(f.id)
        return None
