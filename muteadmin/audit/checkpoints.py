"""Checkpoints: the chain's head written outside the database, out of its administrators' reach.

The hash chain shows a row changed in the middle, but not rows cut from the end, and whoever can
recompute the hashes can rewrite the whole chain. So the head is written down elsewhere: after
the completion that carries the chain across a multiple of settings.AUDIT_CHECKPOINT_ROWS
(1,000) positions, after the first completion of a process and whenever this process last wrote
one more than settings.AUDIT_CHECKPOINT_SECONDS (an hour) ago, by the worker's periodic job
every settings.AUDIT_CHECKPOINT_EVERY_MINUTES (60, quiet hours included; audit/apps.py), and by
`manage.py audit_checkpoint`. Each checkpoint is one
line of JSON, logged by the `muteadmin.audit` logger (ship it to the log store) and appended to
settings.AUDIT_CHECKPOINT_PATH when set:

    {"audit_checkpoint": 1, "at": "2026-12-06T06:00:00.000000Z", "last_id": 4321,
     "rows": 4300, "head_hash": "<64 hex>", "keyed_from": 1, "mac": "<64 hex>"}

`last_id` and `head_hash` are the id and hash of the row at chain position `rows` (the number of
chained rows); `keyed_from` is the chain position where the keyed part begins (null: no row up
to `rows` is keyed). With AUDIT_CHAIN_KEY set, `mac` is the HMAC-SHA-256 of CHECKPOINT_PREFIX and
the line's other fields (JSON, keys sorted, no whitespace); without it, `keyed_from` and `mac`
are left out. `manage.py audit_verify` checks the database against every checkpoint it reads
(checkpoint_verify.py).

A completion costs a comparison of two numbers and of two clock readings; the database is read
and the file written only when a checkpoint is due, after the transaction commits (a checkpoint
never names a row that was rolled back).
"""

import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from muteadmin.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    chain_hash_keyed,
    chain_key,
)
from muteadmin.audit.models import AuditEntry
from muteadmin.core.clock import clock
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_CHECKPOINT_WRITTEN

logger = logging.getLogger("muteadmin.audit")

CHECKPOINT_FORMAT = 1
CHECKPOINT_PREFIX = b"muteadmin audit checkpoint v1\n"
# The fields a checkpoint line holds besides its signature, in the order they are written.
# Enough of the file's end to hold its last line (a checkpoint line is under 300 bytes).
_TAIL_BYTES = 4096
CHECKPOINT_FIELDS = ("audit_checkpoint", "at", "last_id", "rows", "head_hash", "keyed_from")


@dataclass(frozen=True)
class ChainHead:
    """The last chained row: its id (None while the chain is empty), position and hash."""

    last_id: int | None
    rows: int
    head_hash: str


def checkpoint_sign(fields: Mapping[str, Any], *, key: bytes) -> str:
    """The `mac` of a checkpoint with these fields (any `mac` among them is left out)."""
    body = {name: value for name, value in fields.items() if name != "mac"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, CHECKPOINT_PREFIX + text.encode(), hashlib.sha256).hexdigest()


def checkpoint_fields(head: ChainHead, *, using: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    """The checkpoint of `head` as of now, signed when there is a key."""
    moment = timezone.now().astimezone(UTC).replace(tzinfo=None)
    fields: dict[str, Any] = {
        "audit_checkpoint": CHECKPOINT_FORMAT,
        "at": f"{moment.isoformat(timespec='microseconds')}Z",
        "last_id": head.last_id,
        "rows": head.rows,
        "head_hash": head.head_hash,
    }
    key = chain_key()
    if key is not None:
        fields["keyed_from"] = chain_keyed_from(rows=head.rows, key=key, using=using)
        fields["mac"] = checkpoint_sign(fields, key=key)
    return fields


def checkpoint_write(fields: Mapping[str, Any]) -> str:
    """Log the checkpoint and append it to AUDIT_CHECKPOINT_PATH; the line written."""
    line = json.dumps(dict(fields), separators=(",", ":"))
    logger.info("Audit checkpoint %s", line)
    path = getattr(settings, "AUDIT_CHECKPOINT_PATH", "")
    if path:
        try:
            # One write() on a descriptor opened for appending: lines from several processes
            # never interleave, and nothing already in the file is rewritten.
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(descriptor, f"{line}\n".encode())
            finally:
                os.close(descriptor)
        except OSError as exc:
            logger.error("The audit checkpoint could not be appended to %s: %s", path, exc)
    notify_event(
        EVENT_CHECKPOINT_WRITTEN,
        rows=fields["rows"],
        last_id=fields["last_id"],
        head=fields["head_hash"],
    )
    return line


def chain_head_row(*, using: str = DEFAULT_DB_ALIAS) -> ChainHead:
    """The chain's head as the database holds it now."""
    head = (
        AuditEntry.objects.using(using)
        .filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("id", "chain_seq", "chain_hash")
        .first()
    )
    return ChainHead(*head) if head is not None else ChainHead(None, 0, GENESIS_HASH)


def audit_checkpoint(*, using: str = DEFAULT_DB_ALIAS) -> str:
    """Write a checkpoint of the chain's head now (`manage.py audit_checkpoint`); its line."""
    line = checkpoint_write(checkpoint_fields(chain_head_row(using=using), using=using))
    _schedule.written(using, clock().monotonic())
    return line


class _Schedule:
    """When this process last wrote a checkpoint, per database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def claim(self, using: str, *, crossed: bool, now: float) -> bool:
        """Whether a checkpoint is due; if so it counts as written now, so only one is."""
        with self._lock:
            last = self._last.get(using)
            due = (
                crossed
                or last is None
                or now < last  # a clock that went back: start again from it
                or now - last >= settings.AUDIT_CHECKPOINT_SECONDS
            )
            if due:
                self._last[using] = now
            return due

    def written(self, using: str, now: float) -> None:
        with self._lock:
            self._last[using] = now


_schedule = _Schedule()


def checkpoint_after_completion(*, before: int, head: ChainHead, using: str) -> None:
    """Called by each completion that chained rows: `before` was the position before them.

    When a checkpoint is due, writes it once the transaction commits.
    """
    every = settings.AUDIT_CHECKPOINT_ROWS
    crossed = before // every != head.rows // every
    if not _schedule.claim(using, crossed=crossed, now=clock().monotonic()):
        return

    def write() -> None:
        try:
            checkpoint_write(checkpoint_fields(head, using=using))
        except Exception:  # a checkpoint never fails the completion that committed already
            logger.exception("The audit checkpoint after chain position %s failed", head.rows)

    transaction.on_commit(write, using=using)


# Per database: a keyed start found earlier, as (position, hash), checked again before use.
_keyed_starts: dict[str, tuple[int, str]] = {}


def chain_keyed_from(*, rows: int, key: bytes, using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The position where the keyed part of the first `rows` chained rows begins, or None.

    The keyed part is the chain's tail, so a binary search finds its start: two small reads
    per step, about twenty steps for a million rows, once per process and database.
    """
    if rows < 1:
        return None
    known = _keyed_starts.get(using)
    if known is not None and known[0] <= rows:
        stored = (
            AuditEntry.objects.using(using)
            .filter(chain_seq=known[0])
            .values_list("chain_hash", flat=True)
            .first()
        )
        if stored == known[1]:
            return known[0]
    if not _row_keyed(rows, key=key, using=using):
        return None
    low, high = 1, rows
    while low < high:
        middle = (low + high) // 2
        if _row_keyed(middle, key=key, using=using):
            high = middle
        else:
            low = middle + 1
    start_hash = (
        AuditEntry.objects.using(using)
        .filter(chain_seq=low)
        .values_list("chain_hash", flat=True)
        .get()
    )
    _keyed_starts[using] = (low, start_hash)
    return low


def _row_keyed(position: int, *, key: bytes, using: str) -> bool:
    """Whether the row at chain `position` carries a keyed hash that holds."""
    rows = {
        row["chain_seq"]: row
        for row in AuditEntry.objects.using(using)
        .filter(chain_seq__in=[position - 1, position])
        .values(*HASHED_FIELDS, "chain_hash")
    }
    row = rows.get(position)
    if row is None:
        return False
    previous = rows[position - 1]["chain_hash"] if position - 1 in rows else GENESIS_HASH
    return chain_hash_keyed(previous=previous, fields=row, key=key) == row["chain_hash"]


def checkpoint_last_at() -> datetime | None:
    """When the last checkpoint in AUDIT_CHECKPOINT_PATH was written (None: no file or line).

    Reads the file's tail only: it grows by a line an hour and every 1,000 rows, for years.
    """
    path = getattr(settings, "AUDIT_CHECKPOINT_PATH", "")
    if not path:
        return None
    try:
        with open(path, "rb") as file:
            file.seek(max(file.seek(0, os.SEEK_END) - _TAIL_BYTES, 0))
            lines = file.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            moment = datetime.fromisoformat(json.loads(line)["at"])
        except (ValueError, KeyError, TypeError):
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None
