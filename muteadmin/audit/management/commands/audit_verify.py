"""`manage.py audit_verify`: walk the audit log's hash chain, then check it against checkpoints."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from muteadmin.audit.chain import VERIFY_BATCH, ChainReport, audit_chain_verify, chain_key
from muteadmin.audit.checkpoint_verify import checkpoints_read, checkpoints_verify
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_AUDIT_VERIFY_FAILED

# The exit status when the chain is broken (CommandError's own status, without its prefix).
BROKEN = 1


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Recompute the audit log's hash chain from its first completed row to its last (keyed "
            "rows with AUDIT_CHAIN_KEY), then check it against every checkpoint in "
            "AUDIT_CHECKPOINT_PATH and the --checkpoints files. Prints 'Chain intact: N rows "
            "checked.' and the last hash, or names the first row that breaks the chain or "
            "disagrees with a checkpoint and exits with status 1."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=VERIFY_BATCH,
            help=gettext("Rows read per query (default: %(default)s)."),
        )
        parser.add_argument(
            "--checkpoints",
            action="append",
            default=[],
            metavar="FILE",
            help=gettext(
                "Also read checkpoints from FILE: a checkpoints file, or log lines exported "
                "from the log store (lines without a checkpoint are skipped). Repeatable."
            ),
        )

    def handle(self, *args, batch_size: int, checkpoints: list[str], verbosity: int, **options):
        if batch_size < 1:
            raise CommandError(gettext("--batch-size must be at least 1."))
        report = audit_chain_verify(batch_size=batch_size)
        if not report.intact:
            self.stderr.write(report.sentence)
            notify_event(EVENT_AUDIT_VERIFY_FAILED, sentence=report.sentence)
            raise SystemExit(BROKEN)
        checked = self._checkpoints_check(report, [Path(name) for name in checkpoints])
        if verbosity >= 1:
            self.stdout.write(report.sentence)
            self.stdout.write(_keyed_sentence(report))
            self.stdout.write(checked)
            # Kept somewhere else, it also exposes rows cut from the end or a rewritten chain.
            self.stdout.write(gettext("Last hash: %(hash)s") % {"hash": report.head_hash})

    def _checkpoints_check(self, report: ChainReport, extra: list[Path]) -> str:
        paths = list(extra)
        for path in paths:
            if not path.is_file():
                raise CommandError(
                    gettext("There is no checkpoints file at %(path)s.") % {"path": path}
                )
        configured = settings.AUDIT_CHECKPOINT_PATH
        if configured:
            if Path(configured).is_file():
                paths.insert(0, Path(configured))
            else:
                self.stderr.write(
                    gettext(
                        "No checkpoints file at %(path)s yet (AUDIT_CHECKPOINT_PATH): "
                        "the chain was checked against no checkpoint from it."
                    )
                    % {"path": configured}
                )
        if not paths:
            return gettext(
                "Checkpoints: none read (set AUDIT_CHECKPOINT_PATH, or pass --checkpoints FILE)."
            )
        read = checkpoints_read(paths)
        if read.unreadable:
            self.stderr.write(
                gettext("Unreadable checkpoint lines, skipped: %(lines)s.")
                % {"lines": ", ".join(read.unreadable)}
            )
        broken = checkpoints_verify(read.checkpoints, report, key=chain_key())
        if broken is not None:
            self.stderr.write(broken.sentence)
            notify_event(EVENT_AUDIT_VERIFY_FAILED, sentence=broken.sentence)
            raise SystemExit(BROKEN)
        return gettext("Checkpoints: %(count)s agree (%(paths)s).") % {
            "count": len(read.checkpoints),
            "paths": ", ".join(map(str, paths)),
        }


def _keyed_sentence(report: ChainReport) -> str:
    if not report.key_known:
        return gettext(
            "Keyed rows: none checked, AUDIT_CHAIN_KEY is not set (every row is unkeyed)."
        )
    if report.keyed_from is None:
        return gettext(
            "Keyed rows: none yet (every row was chained before AUDIT_CHAIN_KEY was set)."
        )
    return gettext(
        "Keyed rows: from chain position %(position)s on, checked with AUDIT_CHAIN_KEY."
    ) % {"position": report.keyed_from}
