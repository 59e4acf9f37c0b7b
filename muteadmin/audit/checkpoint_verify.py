"""Reading checkpoints back (from AUDIT_CHECKPOINT_PATH or exported log lines) and checking the
database against them: a cut tail, a recomputed chain or a moved keyed start each disagree with
the first checkpoint written after it (see checkpoints.py for the format)."""

import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from muteadmin.audit.chain import ChainReport
from muteadmin.audit.checkpoints import CHECKPOINT_FORMAT, checkpoint_sign
from muteadmin.audit.models import AuditEntry

# A line that holds this is meant to be a checkpoint, whatever else a log line puts before it.
_MARK = '"audit_checkpoint"'
_LOOKUP_BATCH = 1_000


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint as read, and where from ("path:line")."""

    fields: dict[str, Any]
    source: str

    @property
    def rows(self) -> int:
        return self.fields["rows"]

    @property
    def last_id(self) -> int | None:
        return self.fields["last_id"]

    @property
    def named(self) -> str:
        return f"the checkpoint of {self.fields['at']} ({self.source})"


@dataclass(frozen=True)
class CheckpointsRead:
    checkpoints: list[Checkpoint]
    unreadable: list[str]


def checkpoints_read(paths: Iterable[Path]) -> CheckpointsRead:
    """Every checkpoint in these files: their own lines, or log lines that carry one."""
    found, unreadable = [], []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                if _MARK not in line:
                    continue
                source = f"{path}:{number}"
                fields = _parse(line)
                if fields is None:
                    unreadable.append(source)
                else:
                    found.append(Checkpoint(fields=fields, source=source))
    return CheckpointsRead(checkpoints=found, unreadable=unreadable)


def _parse(line: str) -> dict[str, Any] | None:
    start = line.find("{")
    try:
        fields, _ = json.JSONDecoder().raw_decode(line[start:]) if start >= 0 else (None, 0)
    except ValueError:
        return None
    if not isinstance(fields, dict) or fields.get("audit_checkpoint") != CHECKPOINT_FORMAT:
        return None
    valid = (
        isinstance(fields.get("rows"), int)
        and isinstance(fields.get("head_hash"), str)
        and isinstance(fields.get("at"), str)
        and (fields.get("last_id") is None or isinstance(fields.get("last_id"), int))
    )
    return fields if valid else None


@dataclass(frozen=True)
class CheckpointBreak:
    """The first checkpoint the database disagrees with: the chain position and why."""

    position: int
    sentence: str


def checkpoints_verify(
    checkpoints: Sequence[Checkpoint],
    report: ChainReport,
    *,
    key: bytes | None,
    using: str = DEFAULT_DB_ALIAS,
) -> CheckpointBreak | None:
    """Check an intact chain (`report`) against each checkpoint, earliest position first.

    Each checkpointed row must still be there at its position with its hash, the chain must
    reach it, and the keyed part must begin where the checkpoint says. With `key`, a signed
    checkpoint must carry this key's signature.
    """
    ordered = sorted(checkpoints, key=lambda checkpoint: checkpoint.rows)
    stored = _rows_by_id([c.last_id for c in ordered if c.last_id is not None], using=using)
    agreed: Checkpoint | None = None
    for checkpoint in ordered:
        why = _disagreement(checkpoint, report, stored, key=key, using=using)
        if why is not None:
            if agreed is not None and why.position > agreed.rows:
                return CheckpointBreak(
                    why.position,
                    f"{why.sentence} The last checkpoint that agrees is at chain position "
                    f"{agreed.rows} (audit row #{agreed.last_id}, {agreed.fields['at']}), "
                    "so the change lies after it.",
                )
            return why
        agreed = checkpoint
    return None


def _disagreement(
    checkpoint: Checkpoint,
    report: ChainReport,
    stored: dict[int, tuple[int | None, str]],
    *,
    key: bytes | None,
    using: str,
) -> CheckpointBreak | None:
    fields, rows = checkpoint.fields, checkpoint.rows
    signed = key is not None and "mac" in fields
    if signed and not hmac.compare_digest(str(fields["mac"]), checkpoint_sign(fields, key=key)):
        return CheckpointBreak(
            rows,
            f"The{checkpoint.named[3:]} does not carry this AUDIT_CHAIN_KEY's "
            "signature: it was edited, or written by another deployment.",
        )
    if report.checked < rows:
        ends = f"position {report.checked}" + (
            f" (audit row #{report.head_id})" if report.head_id is not None else ""
        )
        return CheckpointBreak(
            report.checked + 1,
            f"Chain cut after chain position {report.checked}: {checkpoint.named} names audit "
            f"row #{checkpoint.last_id} at chain position {rows}, but the chain ends at {ends}, "
            f"so chain positions {report.checked + 1} to {rows} were removed.",
        )
    if rows > 0:
        why = _head_disagreement(checkpoint, stored, using=using)
        if why is not None:
            return why
    return _keyed_disagreement(checkpoint, report) if key is not None else None


def _head_disagreement(
    checkpoint: Checkpoint, stored: dict[int, tuple[int | None, str]], *, using: str
) -> CheckpointBreak | None:
    rows, last_id = checkpoint.rows, checkpoint.last_id
    position, head_hash = stored.get(last_id, (None, ""))
    if position is None:
        holder = (
            AuditEntry.objects.using(using)
            .filter(chain_seq=rows)
            .values_list("id", flat=True)
            .first()
        )
        return CheckpointBreak(
            rows,
            f"Audit row #{last_id} is missing: {checkpoint.named} names it at chain position "
            f"{rows}, which now holds audit row #{holder}, so rows were removed and the chain "
            "rebuilt without them.",
        )
    if position != rows or head_hash != checkpoint.fields["head_hash"]:
        return CheckpointBreak(
            rows,
            f"Chain rewritten at or before audit row #{last_id} (chain position {rows}): "
            f"its position or hash differs from what {checkpoint.named} recorded, so rows up "
            "to it were changed and the hashes after them recomputed.",
        )
    return None


def _keyed_disagreement(checkpoint: Checkpoint, report: ChainReport) -> CheckpointBreak | None:
    fields, rows = checkpoint.fields, checkpoint.rows
    if "keyed_from" not in fields:
        return None  # written by a process without the key
    recorded = fields["keyed_from"]
    actual = (
        report.keyed_from if report.keyed_from is not None and report.keyed_from <= rows else None
    )
    if recorded == actual:
        return None
    here = (
        f"here it begins at chain position {actual}"
        if actual is not None
        else "here no row up to it is keyed"
    )
    where = f"at chain position {recorded}" if recorded is not None else "after it"
    return CheckpointBreak(
        min(p for p in (recorded, actual, rows) if p is not None),
        f"The keyed part moved: {checkpoint.named} records it beginning {where}, but {here}, "
        "so keyed rows were rewritten without AUDIT_CHAIN_KEY.",
    )


def _rows_by_id(ids: list[int], *, using: str) -> dict[int, tuple[int | None, str]]:
    found: dict[int, tuple[int | None, str]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), _LOOKUP_BATCH):
        batch = unique[start : start + _LOOKUP_BATCH]
        for entry_id, position, head_hash in (
            AuditEntry.objects.using(using)
            .filter(pk__in=batch)
            .values_list("id", "chain_seq", "chain_hash")
        ):
            found[entry_id] = (position, head_hash)
    return found
