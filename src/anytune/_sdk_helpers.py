"""I/O-free helpers of providers on a vendor SDK (public through ``anytune.provider``):
reading SDK models and error answers, and cursor pagination. :mod:`anytune._sdk` holds
the base class that uses them."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from anytune._errors import (
    AuthenticationError,
    PermissionDeniedError,
    ProviderStatusError,
    retry_after_seconds,
    status_error_class,
)
from anytune._log import redact

__all__ = ["Pager", "as_dict", "status_error", "vendor_message"]

T = TypeVar("T")


def as_dict(obj: Any, *, exclude_none: bool = False) -> dict[str, Any]:
    """A plain dict of an SDK model (pydantic v2 ``model_dump``, v1 ``dict``, or a dict),
    in JSON types. Serialisation warnings are off: an odd field in a vendor's answer is
    the mapper's to judge, not pydantic's to print."""
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dict(dump(mode="json", exclude_none=exclude_none, warnings=False))
    legacy = getattr(obj, "dict", None)
    if callable(legacy):
        return dict(legacy(exclude_none=exclude_none))
    raise TypeError(f"cannot read {type(obj).__name__} as a dict")


def vendor_message(exc: Any) -> str:
    """The message of an SDK's HTTP error: the error body's ``{"error": {"message": ...}}``
    (or a top-level ``message``), which OpenAI-style APIs answer, else the exception's
    own ``message`` or text. Not yet scrubbed of secrets (:func:`status_error` does)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return str(getattr(exc, "message", None) or exc)


def status_error(
    provider: str, status: int, message: str, *, headers: Any = None, request_id: str | None = None,
    code: str | None = None, refused: str, denied: str, secrets: tuple[str, ...] = (),
) -> ProviderStatusError:
    """The typed error of an HTTP error answer, for a provider's ``map_error``: the class
    by ``status`` (:func:`~anytune.errors.status_error_class`), ``Retry-After`` and the
    request id (else ``x-request-id``) from ``headers``. A 401 says ``refused`` and a 403
    ``denied`` (our wording naming what to check: vendors echo parts of a refused key);
    any other status keeps the vendor's ``message``, scrubbed of ``secrets``. The vendor's
    error ``code`` follows in brackets (but after a 401: nothing of the vendor's)."""
    cls = status_error_class(status)
    if cls is AuthenticationError:
        message = refused
    else:
        message = (denied if cls is PermissionDeniedError else redact(message, secrets)) + (
            f" [{code}]" if code else "")
    if request_id is None and headers is not None:
        request_id = headers.get("x-request-id")
    return cls(message, provider=provider, status_code=status, request_id=request_id,
               retry_after=retry_after_seconds(headers))


class Pager(Generic[T]):
    """Cursor pagination without I/O, shared by :meth:`SDKProvider.paginate` and its async
    twin: ask :meth:`request` for the next ``(cursor, page size)`` (``None``: done), send
    the page, give :meth:`receive` its items and the next cursor (``None``: last page).
    Stops at ``limit`` items, at an empty page, and when a server repeats a cursor."""

    def __init__(self, *, limit: int | None, page_size: int) -> None:
        self.limit, self.page_size = limit, page_size
        self.items: builtins.list[T] = []
        self._cursor: str | None = None
        self._done = limit is not None and limit <= 0

    def request(self) -> tuple[str | None, int] | None:
        """The next page to ask for, or ``None`` when there is none."""
        if self._done:
            return None
        size = self.page_size if self.limit is None else min(self.page_size, self.limit - len(self.items))
        return self._cursor, size

    def receive(self, items: Sequence[T], next_cursor: str | None) -> None:
        """One page's items and the cursor of the page after it."""
        self.items.extend(items)
        full = self.limit is not None and len(self.items) >= self.limit
        self._done = full or not items or next_cursor is None or next_cursor == self._cursor
        self._cursor = next_cursor
        if self.limit is not None:
            del self.items[self.limit:]
