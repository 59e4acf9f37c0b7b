"""Checkpoints kept outside the database expose a cut tail and a recomputed chain."""

import json
import logging
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from muteadmin.audit.checkpoints import checkpoint_sign
from muteadmin.audit.maintenance import audit_maintenance
from muteadmin.audit.models import AuditEntry
from muteadmin.periodic.registry import periodic_specs
from muteadmin.periodic.services import periodic_run_due
from tests.conftest import audit_completed
from tests.test_audit_keyed import TEST_KEY, rewrite, verify


@pytest.fixture
def checkpoint_file(settings, tmp_path) -> Path:
    """AUDIT_CHECKPOINT_PATH set to a file in a fresh folder (not created until written)."""
    path = tmp_path / "audit-checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_PATH = str(path)
    return path


def checkpoint_now() -> dict:
    """Write a checkpoint with `manage.py audit_checkpoint`; the line it printed."""
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    return json.loads(out.getvalue())


def written(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def cut(*entries: AuditEntry) -> None:
    with audit_maintenance(), connection.cursor() as cursor:
        for entry in entries:
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])


@pytest.mark.django_db
def test_a_checkpoint_records_the_head_in_the_file_and_the_log(checkpoint_file, caplog):
    rows = [audit_completed() for _ in range(3)]
    with caplog.at_level(logging.INFO, logger="muteadmin.audit"):
        printed = checkpoint_now()
    assert written(checkpoint_file) == [printed]
    assert printed["audit_checkpoint"] == 1
    assert printed["at"].endswith("Z")
    assert (printed["last_id"], printed["rows"], printed["keyed_from"]) == (rows[-1].pk, 3, 1)
    assert printed["head_hash"] == AuditEntry.objects.get(pk=rows[-1].pk).chain_hash
    assert printed["mac"] == checkpoint_sign(printed, key=TEST_KEY)
    (record,) = [r for r in caplog.records if r.name == "muteadmin.audit"]
    assert record.getMessage() == f"Audit checkpoint {json.dumps(printed, separators=(',', ':'))}"
    # The key signs the line but is never written anywhere.
    assert TEST_KEY.decode() not in checkpoint_file.read_text() + caplog.text


@pytest.mark.django_db
def test_checkpoints_are_appended_never_rewritten(checkpoint_file):
    checkpoint_file.write_text('{"kept": "as it was"}\n')
    audit_completed()
    first = checkpoint_now()
    audit_completed()
    second = checkpoint_now()
    assert written(checkpoint_file) == [{"kept": "as it was"}, first, second]
    assert (first["rows"], second["rows"]) == (1, 2)


@pytest.mark.django_db
def test_an_intact_log_agrees_with_its_checkpoints(checkpoint_file):
    audit_completed()
    checkpoint_now()
    audit_completed()
    checkpoint_now()
    audit_completed()
    status, out, err = verify()
    assert (status, err) == (0, "")
    assert out.splitlines()[2] == f"Checkpoints: 2 agree ({checkpoint_file})."


@pytest.mark.django_db
def test_a_cut_tail_is_caught_through_the_checkpoint(checkpoint_file):
    rows = [audit_completed(reason=f"reason {n}") for n in range(6)]
    checkpoint_now()
    cut(*rows[3:])
    status, out, err = verify()
    assert (status, out) == (1, "")
    assert err.strip() == (
        "Chain cut after chain position 3: the checkpoint of "
        f"{written(checkpoint_file)[0]['at']} ({checkpoint_file}:1) names audit row "
        f"#{rows[5].pk} at chain position 6, but the chain ends at position 3 (audit row "
        f"#{rows[2].pk}), so chain positions 4 to 6 were removed."
    )


@pytest.mark.django_db
def test_a_chain_rewritten_from_its_start_is_caught_through_the_checkpoint(
    settings, checkpoint_file
):
    # The attack: one reason rewritten, every later hash recomputed (unkeyed, from the first
    # row, so the chain alone looks like one written before the key), the last rows cut.
    rows = [audit_completed(reason=f"reason {n}") for n in range(8)]
    checkpoint_now()
    cut(*rows[5:])
    rewrite(1, reason="nothing to see", key=None)
    settings.AUDIT_CHECKPOINT_PATH = ""
    assert verify()[:2] == (
        0,
        "Chain intact: 5 rows checked.\n"
        "Keyed rows: none yet (every row was chained before AUDIT_CHAIN_KEY was set).\n"
        "Checkpoints: none read (set AUDIT_CHECKPOINT_PATH, or pass --checkpoints FILE).\n"
        f"Last hash: {AuditEntry.objects.get(pk=rows[4].pk).chain_hash}\n",
    )
    settings.AUDIT_CHECKPOINT_PATH = str(checkpoint_file)
    status, _, err = verify()
    assert status == 1
    assert err.strip().startswith("Chain cut after chain position 5: the checkpoint of ")

    # Caught with the tail left in place too: the checkpointed row's hash changed.
    checkpoint_file.unlink()
    audit_completed()
    again = checkpoint_now()
    rewrite(1, reason="and again", key=None)
    status, _, err = verify()
    assert status == 1
    assert err.strip() == (
        f"Chain rewritten at or before audit row #{again['last_id']} (chain position 6): its "
        f"position or hash differs from what the checkpoint of {again['at']} "
        f"({checkpoint_file}:1) recorded, so rows up to it were changed and the hashes after "
        "them recomputed."
    )


@pytest.mark.django_db
def test_the_last_checkpoint_that_still_agrees_narrows_where_the_change_is(
    settings, checkpoint_file
):
    # A log chained before the key: the chain alone cannot tell a recomputed one.
    settings.AUDIT_CHAIN_KEY = ""
    rows = [audit_completed(reason=f"reason {n}") for n in range(3)]
    early = checkpoint_now()
    rows += [audit_completed(reason=f"reason {n}") for n in range(3, 6)]
    late = checkpoint_now()
    assert "mac" not in late and "keyed_from" not in late
    rewrite(5, reason="nothing to see", key=None)
    status, _, err = verify()
    assert status == 1
    assert err.strip() == (
        f"Chain rewritten at or before audit row #{rows[5].pk} (chain position 6): its position "
        f"or hash differs from what the checkpoint of {late['at']} ({checkpoint_file}:2) "
        "recorded, so rows up to it were changed and the hashes after them recomputed. The last "
        f"checkpoint that agrees is at chain position 3 (audit row #{rows[2].pk}, "
        f"{early['at']}), so the change lies after it."
    )


@pytest.mark.django_db
def test_a_keyed_start_other_than_the_checkpoints_is_caught(settings, checkpoint_file):
    settings.AUDIT_CHAIN_KEY = ""
    audit_completed()
    settings.AUDIT_CHAIN_KEY = TEST_KEY.decode()
    audit_completed()
    recorded = checkpoint_now()
    assert recorded["keyed_from"] == 2
    # The head agrees, so only the keyed start recorded beside it can disagree: a line whose
    # start says otherwise (signed, so the signature check lets it through).
    moved = recorded | {"keyed_from": 1}
    moved["mac"] = checkpoint_sign(moved, key=TEST_KEY)
    checkpoint_file.write_text(json.dumps(moved) + "\n")
    status, _, err = verify()
    assert status == 1
    assert err.strip() == (
        f"The keyed part moved: the checkpoint of {moved['at']} ({checkpoint_file}:1) records "
        "it beginning at chain position 1, but here it begins at chain position 2, so keyed "
        "rows were rewritten without AUDIT_CHAIN_KEY."
    )


@pytest.mark.django_db
def test_a_checkpoint_edited_in_the_file_is_caught(checkpoint_file):
    audit_completed()
    checkpoint_now()
    forged = written(checkpoint_file)[0] | {"rows": 0, "last_id": None}
    checkpoint_file.write_text(json.dumps(forged) + "\n")
    status, _, err = verify()
    assert status == 1
    assert err.strip() == (
        f"The checkpoint of {forged['at']} ({checkpoint_file}:1) does not carry this "
        "AUDIT_CHAIN_KEY's signature: it was edited, or written by another deployment."
    )


@pytest.mark.django_db
def test_checkpoints_exported_from_the_log_store_are_read(checkpoint_file, tmp_path, caplog):
    rows = [audit_completed() for _ in range(4)]
    with caplog.at_level(logging.INFO, logger="muteadmin.audit"):
        checkpoint_now()
    exported = tmp_path / "exported.log"
    exported.write_text(
        "2026-12-06 06:00:00,000 INFO django.request: unrelated\n"
        + "".join(
            f"2026-12-06 06:00:01,000 INFO muteadmin.audit: {r.getMessage()}\n"
            for r in caplog.records
        )
        + 'INFO muteadmin.audit: Audit checkpoint {"audit_checkpoint": 1, "rows": \n'
    )
    checkpoint_file.unlink()
    cut(rows[-1])
    status, _, err = verify("--checkpoints", str(exported))
    assert status == 1
    lines = err.strip().splitlines()
    assert lines[0] == (
        f"No checkpoints file at {checkpoint_file} yet (AUDIT_CHECKPOINT_PATH): the chain was "
        "checked against no checkpoint from it."
    )
    assert lines[1] == f"Unreadable checkpoint lines, skipped: {exported}:3."
    assert lines[2].startswith("Chain cut after chain position 3: the checkpoint of ")
    assert f"({exported}:2)" in lines[2]


@pytest.mark.django_db
def test_a_missing_checkpoints_file_given_is_an_error():
    with pytest.raises(
        CommandError, match=r"^There is no checkpoints file at /nonexistent/file\.$"
    ):
        call_command("audit_verify", "--checkpoints", "/nonexistent/file")


# Written by the completions themselves


@pytest.mark.django_db
def test_completions_write_a_checkpoint_every_so_many_rows_and_hourly(
    settings, checkpoint_file, clock, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_ROWS = 3
    checkpoint_now()  # this process wrote one just now
    with django_capture_on_commit_callbacks(execute=True):
        rows = [audit_completed() for _ in range(7)]
    assert [(c["rows"], c["last_id"]) for c in written(checkpoint_file)] == [
        (0, None),
        (3, rows[2].pk),
        (6, rows[5].pk),
    ]
    clock.advance(settings.AUDIT_CHECKPOINT_SECONDS - 1)
    with django_capture_on_commit_callbacks(execute=True):
        audit_completed()
    assert len(written(checkpoint_file)) == 3
    clock.advance(1)
    with django_capture_on_commit_callbacks(execute=True):
        last = audit_completed()
    assert [(c["rows"], c["last_id"]) for c in written(checkpoint_file)][-1] == (9, last.pk)
    assert verify()[0] == 0


@pytest.mark.django_db
def test_a_rolled_back_completion_writes_no_checkpoint(settings, checkpoint_file, clock):
    settings.AUDIT_CHECKPOINT_ROWS = 1
    audit_completed()  # the test's transaction is never committed
    assert not checkpoint_file.exists()


@pytest.mark.django_db
def test_a_checkpoint_that_cannot_be_written_to_the_file_is_still_logged(
    settings, tmp_path, caplog
):
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "missing-folder" / "checkpoints.jsonl")
    audit_completed()
    with caplog.at_level(logging.INFO, logger="muteadmin.audit"):
        checkpoint_now()
    messages = [r.getMessage() for r in caplog.records if r.name == "muteadmin.audit"]
    assert messages[0].startswith("Audit checkpoint {")
    assert messages[1].startswith(
        f"The audit checkpoint could not be appended to {settings.AUDIT_CHECKPOINT_PATH}: "
    )


def test_audit_checkpoint_refuses_to_repeat_faster_than_a_minute():
    with pytest.raises(CommandError, match=r"^--every must be at least 60 seconds\.$"):
        call_command("audit_checkpoint", "--every", "10")


def run_due(clock, *, after: float = 0) -> list[str]:
    """The worker's periodic tick, `after` seconds on: the jobs it ran."""
    clock.advance(after)
    with clock.freeze_django():
        return periodic_run_due()


def test_the_worker_checkpoints_every_sixty_minutes_by_default():
    (job,) = [spec for spec in periodic_specs() if spec.name == "audit_checkpoint"]
    assert job.every == 60 * 60


@pytest.mark.django_db
def test_the_worker_writes_a_checkpoint_when_due_and_not_before(checkpoint_file, clock):
    clock.set(timezone.now())
    assert "audit_checkpoint" in run_due(clock)
    assert [line["rows"] for line in written(checkpoint_file)] == [0]

    entry = audit_completed()
    assert "audit_checkpoint" not in run_due(clock, after=59 * 60)
    assert "audit_checkpoint" not in run_due(clock, after=59)
    assert len(written(checkpoint_file)) == 1

    assert "audit_checkpoint" in run_due(clock, after=1)
    latest = written(checkpoint_file)[-1]
    assert (latest["rows"], latest["last_id"]) == (1, entry.pk)
    assert latest["at"] == clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The checkpoint the worker wrote is one audit_verify checks the database against.
    assert verify()[0] == 0
