"""`manage.py audit_verify`: walk the audit log's hash chain and name the first broken row."""

from django.core.management.base import BaseCommand, CommandError

from muteadmin.audit.chain import VERIFY_BATCH, audit_chain_verify

# The exit status when the chain is broken (CommandError's own status, without its prefix).
BROKEN = 1


class Command(BaseCommand):
    help = (
        "Recompute the audit log's hash chain from its first completed row to its last. Prints "
        "'Chain intact: N rows checked.' and the last hash, or names the first row that breaks "
        "the chain and exits with status 1."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=VERIFY_BATCH,
            help="Rows read per query (default: %(default)s).",
        )

    def handle(self, *args, batch_size: int, verbosity: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = audit_chain_verify(batch_size=batch_size)
        if not report.intact:
            self.stderr.write(report.sentence)
            raise SystemExit(BROKEN)
        if verbosity >= 1:
            self.stdout.write(report.sentence)
            # Kept somewhere else, it also exposes rows cut from the end or a rewritten chain.
            self.stdout.write(f"Last hash: {report.head_hash}")
