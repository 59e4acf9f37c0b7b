"""Shared by the audit log's integrity tests: running audit_verify, and statements behind the ORM's
back that the guard may refuse."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction


def verify(*args: str) -> tuple[int, str, str]:
    """Run audit_verify: its exit status, what it printed and what it reported as an error."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refused(sql: str, params: list | None = None) -> str:
    """Run a statement the guard must refuse; the database's message."""
    # Its own savepoint, so PostgreSQL's test transaction survives the error.
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        raw(sql, params)
    return str(caught.value)
