"""CI: the README's two-role PostgreSQL setup end to end, run as the app's role by manage.py shell.

The owner has migrated the database; this runs as the app's role, with production's audit code:
audited sandbox lookups complete and chain their rows, the guard refuses the app any
change to a completed row whatever it sets, and audit_verify agrees with the checkpoints written.
"""

import sys
from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.services import mute_get

operator, _ = User.objects.get_or_create(username="two-roles-smoke")
for account in ("alice", "bob"):
    mute_get(account=account, operator=operator)
call_command("audit_checkpoint", verbosity=0)
done = AuditEntry.objects.exclude(outcome="pending").order_by("-id").first()
assert done is not None and done.chain_seq is not None, "no completed, chained audit row"

for statement in (
    "SET muteadmin.audit_maintenance = 'on'",
    "SELECT set_config('muteadmin.audit_maintenance', 'on', false)",
):
    for change in (
        "UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
                cursor.execute(change, [done.pk])
        except DatabaseError as exc:
            first_line = str(exc).splitlines()[0]
            if "append-only" not in first_line:
                sys.exit(f"refused, but not by the audit guard: {first_line}")
            print(f"refused: {change.split()[0]} after {statement!r}: {first_line}")
        else:
            sys.exit(f"the app's role was allowed to {change!r} after {statement!r}")

out = StringIO()
call_command("audit_verify", stdout=out)
print(out.getvalue().strip())
assert "Checkpoints: 0 agree" not in out.getvalue(), "audit_verify read no checkpoint"
assert " agree (" in out.getvalue(), "audit_verify read no checkpoints file"
