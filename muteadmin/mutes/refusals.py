"""Changes refused for want of a permission, as the account page meets them: audited as `denied`.

A post from someone who may not change mutes at all, or a length the change form refused (a
permanent mute, or one above the limit, where no request is offered), leaves an audit row
saying who asked what of which account and why it was refused. Nothing is sent.
"""

from collections.abc import Mapping
from contextlib import suppress

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from muteadmin.audit.denials import audit_denied
from muteadmin.mutes.forms import KINDS, MuteChangeForm
from muteadmin.mutes.permissions import mute_change_checked
from muteadmin.tencent.nospeaking import PERMANENT

# Form errors that refuse a change for want of a permission.
REFUSAL_CODES = ("permanent_denied", "over_limit")
# Digits in the longest length Tencent takes (PERMANENT, 4294967295).
MAX_DIGITS = len(str(PERMANENT))


def posted_seconds(data: Mapping[str, str]) -> dict[str, int | None]:
    """The lengths a post asked for (c2c_seconds, group_seconds), where they are whole seconds."""
    requested: dict[str, int | None] = {}
    for kind in KINDS:
        raw = (data.get(f"{kind}_seconds") or "").strip()
        # Checked by length before int(): a 5,000-digit number is not worth converting.
        valid = raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS and int(raw) <= PERMANENT
        requested[f"{kind}_seconds"] = int(raw) if valid else None
    return requested


def mute_change_refusal_audit(
    *,
    operator: AbstractBaseUser,
    account: str,
    form: MuteChangeForm | None,
    data: Mapping[str, str],
    client_ip: str | None,
    app: str,
) -> None:
    """Audit the refusal of a posted change: `form` None when the operator may change nothing.

    Does nothing when the form's errors refuse nothing (a typo is not a refusal).
    """
    if form is None:
        # The permission check itself refuses and records it.
        with suppress(PermissionDenied):
            mute_change_checked(
                operator=operator,
                account=account,
                client_ip=client_ip,
                app=app,
                **posted_seconds(data),
            )
        return
    refused = [
        message
        for errors in form.errors.as_data().values()
        for error in errors
        if error.code in REFUSAL_CODES
        for message in error.messages
    ]
    if refused:
        audit_denied(
            operator=operator,
            asked="change",
            refused=" ".join(refused),
            account=account,
            reason=form.cleaned_data.get("reason", ""),
            client_ip=client_ip,
            app=app,
        )
