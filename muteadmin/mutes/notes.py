"""Staff notes on an account: written as audit rows, so never edited or deleted.

A note is an AuditEntry of action `note` whose reason holds the text. The audit log's guard
keeps completed rows as written, so a note is append-only with nothing more to enforce here: a
later note corrects an earlier one. The note is chained and listed with the account's rows.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.tencent.accounts import validate_account
from muteadmin.upstream.registry import tim_app

NOTE_MAX_LENGTH = 2000


class InvalidNote(ValueError):
    """A note that cannot be kept; its message is a sentence for the form."""


def account_note_add(
    *,
    operator: AbstractBaseUser,
    account: str,
    text: str,
    app: str,
    client_ip: str | None = None,
) -> AuditEntry:
    """Add a note on `account` in `app`: one completed audit row holding the text.

    Raises InvalidAccount for an ID Tencent would not accept, InvalidNote for an empty note or
    one over NOTE_MAX_LENGTH characters, KeyError for an app that is not configured.
    """
    validate_account(account)
    tim_app(app)
    text = text.strip()
    if not text:
        raise InvalidNote(_("Write the note before adding it."))
    if "\x00" in text:
        raise InvalidNote(
            _("A note cannot hold a NUL character: remove it and add the note again.")
        )
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidNote(
            _(
                "A note is at most %(most)s characters long; this one has %(length)s. "
                "Shorten it, or split it into two notes."
            )
            % {"most": f"{NOTE_MAX_LENGTH:,}", "length": f"{len(text):,}"}
        )
    return audit_record(
        operator=operator,
        action=AuditEntry.Action.NOTE,
        account=account,
        reason=text,
        client_ip=client_ip,
        app=app,
    )
