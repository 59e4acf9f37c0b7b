"""The audit log's hash chain: each completed row's hash covers its fields and the previous hash.

Completed rows are numbered 1, 2, 3... (`chain_seq`) in the order they completed, and
`chain_hash` is the lowercase hex SHA-256 of this canonical serialisation (version 1; stored
hashes depend on it, so it never changes):

    the UTF-8 bytes of the JSON text of {"prev": <previous>, "row": {<field>: <value>, ...}}
    written with keys sorted at every level, no whitespace (separators "," and ":") and every
    non-ASCII character escaped as \\uXXXX, where

    - <previous> is the chain_hash of the row at chain_seq - 1, or GENESIS_HASH for the first;
    - "row" holds exactly CHAIN_FIELDS (no more, no fewer): integers as JSON numbers, text as
      JSON strings, null for no value (and for a field the caller left out, such as a column
      a raw insert does not write); created_at and completed_at in UTC as
      "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always six fractional digits); details as the JSON value
      itself (given as text, it is parsed first);
    - "row" also holds OPTIONAL_CHAIN_FIELDS that have a value (a UUID as its hyphenated
      lowercase text, an app as its name, on_behalf_of as the requester's username, rule as
      its code), and leaves out those without one. Rows written before a field existed have
      none, so their bytes, and the hashes stored for them, stay as they were.

operator_id is left out on purpose: deleting a user sets it to NULL, which must not break the
chain; operator_username still names who acted. chain_hash itself is of course not covered.

The keyed chain (version 2). With settings.AUDIT_CHAIN_KEY set, a row's chain_hash is instead
the lowercase hex HMAC-SHA-256, keyed with the UTF-8 bytes of that key, of KEYED_PREFIX followed
by the same bytes. The key lives only in the environment of the processes that write and verify
the log, never in the database, so whoever can only write the database cannot recompute it.
Rows chained before the key existed keep their SHA-256 hashes: the chain is an unkeyed prefix
followed by a keyed part, and the keyed part begins at the first row whose hash is an HMAC
(audit_chain_verify finds it and says where). Once it has begun, every later row must be keyed:
an unkeyed hash after it means the row was rewritten without the key. Moving the start later
means rewriting every keyed row after it without the key, which the checkpoints kept outside
the database (checkpoints.py: each records the head's hash and where the keyed part begins)
expose, as they expose rows cut from the end. There is one key: changing it is not supported
(rows keyed with an old key would no longer verify).
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from muteadmin.audit.models import AuditEntry
from muteadmin.core.sql import Statement, StatementResult, statements_run

GENESIS_HASH = "0" * 64
# Put before the canonical bytes of a keyed row, so its HMAC can never be taken for another use
# of the key (a checkpoint's signature has a prefix of its own).
KEYED_PREFIX = b"muteadmin audit chain v2\n"
CHAIN_FIELDS = (
    "id",
    "created_at",
    "operator_username",
    "action",
    "account",
    "c2c_requested",
    "group_requested",
    "c2c_observed",
    "group_observed",
    "reason",
    "outcome",
    "error_code",
    "error_info",
    "latency_ms",
    "request_random",
    "client_ip",
    "details",
    "job_id",
    "completed_at",
    "chain_seq",
)
# Hashed only when set (see above): added after rows were chained without them.
OPTIONAL_CHAIN_FIELDS = ("correlation_id", "app", "on_behalf_of", "rule")
# What to read back from the database to hash a row.
HASHED_FIELDS = (*CHAIN_FIELDS, *OPTIONAL_CHAIN_FIELDS)
_DATETIME_FIELDS = frozenset({"created_at", "completed_at"})
# Any constant of our own: transactions appending to the chain queue on this advisory lock.
CHAIN_LOCK_KEY = 0x6D75_7465_6164_6D69
# Rows read per query by audit_chain_verify: enough to amortise the round trip, small in memory.
VERIFY_BATCH = 5_000


def chain_serialise(*, previous: str, fields: Mapping[str, Any]) -> bytes:
    """The canonical bytes hashed for a row (see the module docstring)."""
    row = {name: _canonical(name, fields.get(name)) for name in CHAIN_FIELDS}
    for name in OPTIONAL_CHAIN_FIELDS:
        if fields.get(name) is not None:
            row[name] = str(fields[name])
    text = json.dumps(
        {"prev": previous, "row": row}, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return text.encode()


def chain_hash(*, previous: str, fields: Mapping[str, Any]) -> str:
    """The unkeyed chain_hash (version 1) of a row with these fields after the hash `previous`."""
    return hashlib.sha256(chain_serialise(previous=previous, fields=fields)).hexdigest()


def chain_hash_keyed(*, previous: str, fields: Mapping[str, Any], key: bytes) -> str:
    """The keyed chain_hash (version 2): HMAC-SHA-256 with `key` (see the module docstring)."""
    return _keyed_digest(chain_serialise(previous=previous, fields=fields), key)


def _keyed_digest(message: bytes, key: bytes) -> str:
    return hmac.new(key, KEYED_PREFIX + message, hashlib.sha256).hexdigest()


def chain_key() -> bytes | None:
    """settings.AUDIT_CHAIN_KEY as the HMAC's key, None while it is not set."""
    key = getattr(settings, "AUDIT_CHAIN_KEY", "")
    return key.encode() if key else None


def chain_link(*, previous: str, fields: Mapping[str, Any], key: bytes | None) -> str:
    """The hash a row completed now gets: keyed when there is a key, else version 1."""
    if key is None:
        return chain_hash(previous=previous, fields=fields)
    return chain_hash_keyed(previous=previous, fields=fields, key=key)


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _DATETIME_FIELDS:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        # Naive times are UTC: that is how the database hands them back without time zone support.
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return f"{moment.isoformat(timespec='microseconds')}Z"
    if name == "details" and isinstance(value, str):
        return json.loads(value)
    return value


def chain_lock(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Wait until no other transaction is appending to the chain; held until this one ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: nothing to do, because a transaction
    that has written holds the database's one write lock until it ends (and settings start every
    transaction with BEGIN IMMEDIATE), so callers write before they read the chain's head.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("chain_lock() only makes sense inside a transaction.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def _head_sql(connection) -> str:
    meta = AuditEntry._meta
    qn = connection.ops.quote_name
    seq = qn(meta.get_field("chain_seq").column)
    chain_hash = qn(meta.get_field("chain_hash").column)
    # Only quoted names from the model are formatted in.
    return (
        f"SELECT {seq}, {chain_hash} FROM {qn(meta.db_table)}"  # noqa: S608
        f" WHERE {seq} IS NOT NULL ORDER BY {seq} DESC LIMIT 1"
    )


def chain_head(*, using: str = DEFAULT_DB_ALIAS) -> tuple[int, str]:
    """The last chain position and its hash, (0, GENESIS_HASH) while the chain is empty."""
    (read,) = statements_run([chain_head_statement(using=using)], using=using)
    return chain_head_of(read)


def chain_head_statement(*, using: str = DEFAULT_DB_ALIAS) -> Statement:
    """chain_head's query, to run with others (core.sql.statements_run); chain_head_of reads it."""
    # Written out: every completion reads it, and the ORM's query costs more to build
    # than this costs to run (bench/README.md, the account page).
    return Statement(_head_sql(connections[using]))


def chain_head_of(read: StatementResult) -> tuple[int, str]:
    """The head that chain_head_statement read."""
    return read.rows[0] if read.rows else (0, GENESIS_HASH)


@dataclass(frozen=True)
class ChainBreak:
    """The first row at which the chain no longer holds, and why."""

    entry_id: int
    position: int | None
    why: str


@dataclass(frozen=True)
class ChainReport:
    """What walking the chain found.

    `head_id` is the id of the last row checked (None while the chain is empty), `keyed_from`
    the chain position where the keyed part begins (None when no row checked is keyed, and
    always when `key_known` is false: without the key, keyed rows cannot be told from edits).
    """

    checked: int
    head_hash: str
    broken: ChainBreak | None
    head_id: int | None = None
    keyed_from: int | None = None
    key_known: bool = True

    @property
    def intact(self) -> bool:
        return self.broken is None

    @property
    def sentence(self) -> str:
        if self.broken is None:
            return f"Chain intact: {self.checked} rows checked."
        where = (
            "no chain position"
            if self.broken.position is None
            else f"chain position {self.broken.position}"
        )
        return f"Chain broken at audit row #{self.broken.entry_id} ({where}): {self.broken.why}."


@dataclass
class _Walk:
    """Where a walk along the chain has got to."""

    key: bytes | None
    previous: str = GENESIS_HASH
    expected: int = 1
    checked: int = 0
    head_id: int | None = None
    keyed_from: int | None = None

    def report(self, broken: ChainBreak | None = None) -> ChainReport:
        return ChainReport(
            checked=self.checked,
            head_hash=self.previous,
            broken=broken,
            head_id=self.head_id,
            keyed_from=self.keyed_from,
            key_known=self.key is not None,
        )

    def step(self, row: Mapping[str, Any]) -> str | None:
        """Check `row` as the next one along; why it breaks the chain, or None as it moves on."""
        if row["chain_seq"] != self.expected:
            missing = (
                f"position {self.expected} is"
                if row["chain_seq"] == self.expected + 1
                else f"positions {self.expected} to {row['chain_seq'] - 1} are"
            )
            return f"chain {missing} missing, so rows before it were deleted or renumbered"
        if row["outcome"] == AuditEntry.Outcome.PENDING:
            return "it is marked pending, yet it completed and was chained"
        why = self._hash_check(row)
        if why is None:
            self.previous, self.expected = row["chain_hash"], self.expected + 1
            self.checked, self.head_id = self.checked + 1, row["id"]
        return why

    def _hash_check(self, row: Mapping[str, Any]) -> str | None:
        stored = row["chain_hash"]
        # Serialised once for both hashes: the walk's cost is mostly this.
        message = chain_serialise(previous=self.previous, fields=row)
        unkeyed = hashlib.sha256(message).hexdigest() == stored
        if self.keyed_from is None and unkeyed:
            return None
        if self.key is not None and stored == _keyed_digest(message, self.key):
            if self.keyed_from is None:
                self.keyed_from = row["chain_seq"]
            return None
        if unkeyed:
            return (
                f"its hash is unkeyed, yet the keyed part began at chain position "
                f"{self.keyed_from}, so it was rewritten by someone without AUDIT_CHAIN_KEY"
            )
        changed = (
            "its contents no longer match the hash written when it completed, "
            "so it was changed afterwards"
        )
        if self.key is None:
            return f"{changed} (or it is keyed, and AUDIT_CHAIN_KEY is not set here to check it)"
        return changed


def audit_chain_verify(
    *,
    batch_size: int = VERIFY_BATCH,
    using: str = DEFAULT_DB_ALIAS,
    key: bytes | Literal["settings"] | None = "settings",
) -> ChainReport:
    """Recompute the chain from the first completed row to the last, stopping at the first break.

    Keyed rows are checked with `key`, by default settings.AUDIT_CHAIN_KEY.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    walk = _Walk(key=chain_key() if key == "settings" else key)
    rows = AuditEntry.objects.using(using).order_by("chain_seq")
    while True:
        # Keyset pages on the unique chain_seq index: memory stays flat however long the chain.
        batch = list(
            rows.filter(chain_seq__gte=walk.expected).values(*HASHED_FIELDS, "chain_hash")[
                :batch_size
            ]
        )
        for row in batch:
            why = walk.step(row)
            if why is not None:
                return walk.report(ChainBreak(row["id"], row["chain_seq"], why))
        if len(batch) < batch_size:
            break
    unchained = (
        AuditEntry.objects.using(using)
        .filter(chain_seq__isnull=True)
        .exclude(outcome=AuditEntry.Outcome.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if unchained is not None:
        why = "it is completed but was never linked into the chain"
        return walk.report(ChainBreak(unchained, None, why))
    return walk.report()
