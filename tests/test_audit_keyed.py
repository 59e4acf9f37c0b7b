"""The chain is keyed: who can write the database but lacks AUDIT_CHAIN_KEY cannot recompute it."""

import pytest
from django.core import checks
from django.db import connection

from muteadmin.audit.chain import GENESIS_HASH, HASHED_FIELDS, chain_hash, chain_hash_keyed
from muteadmin.audit.maintenance import audit_maintenance
from muteadmin.audit.models import AuditEntry
from tests.audit_fixtures import verify
from tests.conftest import audit_completed

TEST_KEY = b"test-audit-chain-key-that-must-never-appear-in-output"


def chained() -> list[dict]:
    return list(AuditEntry.objects.order_by("chain_seq").values(*HASHED_FIELDS, "chain_hash"))


def rewrite(position: int, *, reason: str, key: bytes | None) -> None:
    """What an insider with write access does: change one row's reason, recompute every later hash.

    `key` None recomputes them unkeyed (SHA-256), as anyone can.
    """
    rows = chained()
    previous = rows[position - 2]["chain_hash"] if position > 1 else GENESIS_HASH
    with audit_maintenance():
        for row in rows[position - 1 :]:
            if row["chain_seq"] == position:
                row["reason"] = reason
            if key is None:
                row["chain_hash"] = chain_hash(previous=previous, fields=row)
            else:
                row["chain_hash"] = chain_hash_keyed(previous=previous, fields=row, key=key)
            previous = row["chain_hash"]
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE audit_auditentry SET reason = %s, chain_hash = %s WHERE id = %s",
                    [row["reason"], row["chain_hash"], row["id"]],
                )


@pytest.mark.django_db
def test_completed_rows_carry_a_keyed_hash_not_a_plain_one():
    audit_completed(reason="first")
    audit_completed(reason="second")
    previous = GENESIS_HASH
    for row in chained():
        assert row["chain_hash"] == chain_hash_keyed(previous=previous, fields=row, key=TEST_KEY)
        assert row["chain_hash"] != chain_hash(previous=previous, fields=row)
        previous = row["chain_hash"]


@pytest.mark.django_db
def test_a_chain_recomputed_without_the_key_is_caught_at_the_row_rewritten():
    rows = [audit_completed(reason=f"reason {n}") for n in range(5)]
    rewrite(3, reason="nothing to see", key=None)
    status, out, err = verify()
    assert (status, out) == (1, "")
    assert err.strip() == (
        f"Chain broken at audit row #{rows[2].pk} (chain position 3): its hash is unkeyed, yet "
        "the keyed part began at chain position 1, so it was rewritten by someone without "
        "AUDIT_CHAIN_KEY."
    )


@pytest.mark.django_db
def test_a_chain_recomputed_with_a_guessed_key_is_caught():
    rows = [audit_completed(reason=f"reason {n}") for n in range(4)]
    rewrite(2, reason="nothing to see", key=b"guessed")
    status, _, err = verify()
    assert status == 1
    assert err.strip() == (
        f"Chain broken at audit row #{rows[1].pk} (chain position 2): its contents no longer "
        "match the hash written when it completed, so it was changed afterwards."
    )


@pytest.mark.django_db
def test_rows_chained_before_the_key_existed_keep_verifying(settings):
    settings.AUDIT_CHAIN_KEY = ""
    older = [audit_completed(reason=f"before {n}") for n in range(3)]
    settings.AUDIT_CHAIN_KEY = TEST_KEY.decode()
    newer = [audit_completed(reason=f"after {n}") for n in range(2)]
    status, out, err = verify()
    assert (status, err) == (0, "")
    assert out.splitlines()[:2] == [
        "Chain intact: 5 rows checked.",
        "Keyed rows: from chain position 4 on, checked with AUDIT_CHAIN_KEY.",
    ]
    stored = {row["id"]: row for row in chained()}
    assert stored[older[-1].pk]["chain_hash"] == chain_hash(
        previous=stored[older[-2].pk]["chain_hash"], fields=stored[older[-1].pk]
    )
    assert stored[newer[0].pk]["chain_hash"] == chain_hash_keyed(
        previous=stored[older[-1].pk]["chain_hash"], fields=stored[newer[0].pk], key=TEST_KEY
    )


@pytest.mark.django_db
def test_an_unkeyed_row_after_the_keyed_part_began_is_caught(settings):
    audit_completed()
    settings.AUDIT_CHAIN_KEY = ""  # a process started without the key
    stray = audit_completed()
    settings.AUDIT_CHAIN_KEY = TEST_KEY.decode()
    status, _, err = verify()
    assert status == 1
    assert err.strip().startswith(
        f"Chain broken at audit row #{stray.pk} (chain position 2): its hash is unkeyed"
    )


@pytest.mark.django_db
def test_without_the_key_keyed_rows_cannot_be_vouched_for(settings):
    first = audit_completed()
    settings.AUDIT_CHAIN_KEY = ""
    status, out, err = verify()
    assert (status, out) == (1, "")
    assert err.strip() == (
        f"Chain broken at audit row #{first.pk} (chain position 1): its contents no longer match "
        "the hash written when it completed, so it was changed afterwards (or it is keyed, and "
        "AUDIT_CHAIN_KEY is not set here to check it)."
    )


@pytest.mark.django_db
def test_a_log_without_a_key_verifies_and_says_keyed_rows_were_not_checked(settings):
    settings.AUDIT_CHAIN_KEY = ""
    audit_completed()
    status, out, _ = verify()
    assert status == 0
    assert out.splitlines()[1] == (
        "Keyed rows: none checked, AUDIT_CHAIN_KEY is not set (every row is unkeyed)."
    )


# The key is required in production


def audit_messages() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if m.id in {"muteadmin.E101", "muteadmin.W102"}]


def test_production_without_a_chain_key_does_not_start(settings):
    settings.DEBUG, settings.AUDIT_CHAIN_KEY = False, ""
    (message,) = audit_messages()
    assert message.id == "muteadmin.E101"
    assert message.level == checks.ERROR
    assert "AUDIT_CHAIN_KEY is not set" in message.msg
    assert "secrets.token_urlsafe" in message.hint


def test_a_short_chain_key_is_warned_about_and_development_needs_none(settings):
    settings.DEBUG, settings.AUDIT_CHAIN_KEY = False, "short"
    assert [m.id for m in audit_messages()] == ["muteadmin.W102"]
    settings.DEBUG, settings.AUDIT_CHAIN_KEY = True, ""
    assert audit_messages() == []
    settings.DEBUG, settings.AUDIT_CHAIN_KEY = False, TEST_KEY.decode()
    assert audit_messages() == []
