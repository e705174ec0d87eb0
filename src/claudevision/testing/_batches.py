"""Message Batches on the local server: create, retrieve, list, results, cancel, delete.

Each request of a batch is answered when the batch is created, by the same rules and
scripted replies as a plain request, and revealed when the batch ends: after
``processing_seconds`` (0: at once). A request the rules refuse, or one answered by a
scripted error, ends ``errored``; :meth:`BatchStore.expire` ends what is still processing
as ``expired``; a cancel before the end makes every request ``canceled``.

>>> store = BatchStore()
>>> batch = store.create([("a", {"type": "succeeded", "message": {}})], processing_seconds=0)
>>> store.view(batch.id, "http://x")["request_counts"]["succeeded"]
1
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["DAY", "MAX_REQUESTS", "Batch", "BatchStore", "check_requests"]

MAX_REQUESTS = 100_000
DAY = 24 * 3600
_COUNTS = ("processing", "succeeded", "errored", "canceled", "expired")


def _rfc3339(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Batch:
    """One batch: its answers (known at once) and when they show."""

    id: str
    results: list[tuple[str, dict[str, Any]]]
    """``(custom_id, result)`` in request order; shown once the batch has ended."""
    created_at: float
    ends_at: float
    ended_at: float | None = None
    cancel_initiated_at: float | None = None
    final: dict[str, str] = field(default_factory=dict)
    """custom_id -> ``canceled`` or ``expired``, for requests that never finished."""

    def ended(self, now: float) -> bool:
        """Whether the batch has ended by ``now`` (marking when it did)."""
        if self.ended_at is None and now >= self.ends_at:
            self.ended_at = self.ends_at
        return self.ended_at is not None

    def shown(self) -> list[tuple[str, dict[str, Any]]]:
        """The results as the results file gives them."""
        return [
            (custom_id, {"type": self.final[custom_id]} if custom_id in self.final else result)
            for custom_id, result in self.results
        ]


def check_requests(body: object) -> list[tuple[str, dict[str, Any]]]:
    """The ``(custom_id, params)`` of a create body; raises ValueError naming the field."""
    if not isinstance(body, dict):
        raise ValueError("The request body must be a JSON object")
    extra = sorted(set(body) - {"requests"})
    if extra:
        raise ValueError(f"{extra[0]}: Extra inputs are not permitted")
    requests = body.get("requests")
    if not isinstance(requests, list):
        raise ValueError("requests: Input should be a valid list")
    if not 1 <= len(requests) <= MAX_REQUESTS:
        raise ValueError(f"requests: a batch holds 1 to {MAX_REQUESTS} requests")
    seen: set[str] = set()
    found: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(requests):
        where = f"requests.{index}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: Input should be a valid dictionary")
        custom_id, params = item.get("custom_id"), item.get("params")
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 64:
            raise ValueError(f"{where}.custom_id: a string of 1 to 64 characters is required")
        if not all(c.isalnum() or c in "_-" for c in custom_id):
            raise ValueError(f"{where}.custom_id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        if custom_id in seen:
            raise ValueError(f"{where}.custom_id: custom_id values must be unique: {custom_id}")
        seen.add(custom_id)
        if not isinstance(params, dict):
            raise ValueError(f"{where}.params: Input should be a valid dictionary")
        if params.get("stream"):
            raise ValueError(f"{where}.params.stream: streaming is not supported in batches")
        if params.get("max_tokens") == 0:
            raise ValueError(f"{where}.params.max_tokens: must be at least 1 in a batch")
        extra = sorted(set(item) - {"custom_id", "params"})
        if extra:
            raise ValueError(f"{where}.{extra[0]}: Extra inputs are not permitted")
        found.append((custom_id, params))
    return found


class BatchStore:
    """The server's batches, oldest first; safe across threads."""

    def __init__(self) -> None:
        self._batches: dict[str, Batch] = {}
        self._lock = threading.Lock()

    def create(
        self, results: list[tuple[str, dict[str, Any]]], *, processing_seconds: float
    ) -> Batch:
        """A new batch whose answers are ``results``, ending after ``processing_seconds``."""
        now = time.time()
        batch = Batch(
            id=f"msgbatch_01{uuid.uuid4().hex[:22]}",
            results=results,
            created_at=now,
            ends_at=now + max(processing_seconds, 0.0),
        )
        with self._lock:
            self._batches[batch.id] = batch
        return batch

    def get(self, batch_id: str) -> Batch | None:
        """The batch ``batch_id``, or None."""
        with self._lock:
            return self._batches.get(batch_id)

    def delete(self, batch_id: str) -> bool:
        """Forget an ended batch; False if unknown. Raises ValueError while it runs."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return False
            if not batch.ended(time.time()):
                raise ValueError("a batch can be deleted only once it has ended; cancel it first")
            del self._batches[batch_id]
            return True

    def cancel(self, batch_id: str) -> Batch | None:
        """Cancel ``batch_id``: unfinished requests end ``canceled``."""
        return self._end(batch_id, "canceled")

    def expire(self, batch_id: str) -> Batch | None:
        """End ``batch_id`` as if its 24 hours ran out: unfinished requests ``expired``."""
        return self._end(batch_id, "expired")

    def _end(self, batch_id: str, how: str) -> Batch | None:
        now = time.time()
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None or batch.ended(now):
                return batch
            if how == "canceled":
                batch.cancel_initiated_at = now
            batch.final = {custom_id: how for custom_id, _ in batch.results}
            batch.ended_at = now
            return batch

    def view(self, batch_id: str, base_url: str) -> dict[str, Any]:
        """The API's ``MessageBatch`` JSON for ``batch_id`` (which must exist)."""
        with self._lock:
            batch = self._batches[batch_id]
            ended = batch.ended(time.time())
            counts = dict.fromkeys(_COUNTS, 0)
            if ended:
                for _, result in batch.shown():
                    counts[result["type"]] += 1
            else:
                counts["processing"] = len(batch.results)
            status = "ended" if ended else "in_progress"
            return {
                "id": batch.id,
                "type": "message_batch",
                "processing_status": status,
                "request_counts": counts,
                "created_at": _rfc3339(batch.created_at),
                "expires_at": _rfc3339(batch.created_at + DAY),
                "ended_at": _rfc3339(batch.ended_at) if ended else None,
                "cancel_initiated_at": _rfc3339(batch.cancel_initiated_at),
                "archived_at": None,
                "results_url": (
                    f"{base_url}/v1/messages/batches/{batch.id}/results" if ended else None
                ),
            }

    def results(self, batch_id: str) -> bytes | None:
        """The results file (JSON Lines) of an ended batch; None while it runs."""
        with self._lock:
            batch = self._batches[batch_id]
            if not batch.ended(time.time()):
                return None
            lines = [
                json.dumps({"custom_id": custom_id, "result": result})
                for custom_id, result in batch.shown()
            ]
            return ("\n".join(lines) + "\n").encode()

    def page(
        self,
        base_url: str,
        *,
        limit: int = 20,
        after_id: str | None = None,
        before_id: str | None = None,
    ) -> dict[str, Any]:
        """One page of ``GET /v1/messages/batches``, newest first."""
        with self._lock:
            ids = list(reversed(self._batches))
        if before_id in ids:
            end = ids.index(before_id)
            start = max(end - limit, 0)
            more = start > 0
        else:
            start = ids.index(after_id) + 1 if after_id in ids else 0
            end = start + limit
            more = end < len(ids)
        chosen = ids[start:end]
        return {
            "data": [self.view(batch_id, base_url) for batch_id in chosen],
            "has_more": more,
            "first_id": chosen[0] if chosen else None,
            "last_id": chosen[-1] if chosen else None,
        }
