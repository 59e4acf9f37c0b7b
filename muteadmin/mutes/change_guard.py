"""The account page's guard on changes: the confirmation step, the refusal of a change made on
a stale page, and what the change form shows about both (muteadmin/mutes/confirmation.py words it).
"""

from datetime import UTC, datetime

from django.http import HttpResponse
from django.utils.translation import gettext as _

from muteadmin.core.clock import clock
from muteadmin.mutes.confirmation import Confirmation, change_confirmation, stale_sentences
from muteadmin.mutes.forms import KINDS, SEEN_FIELDS, MuteChangeForm, seen_values
from muteadmin.mutes.seen import SeenMutes, StaleMuteState, run_down
from muteadmin.mutes.setters import mute_lifters, mute_setters, mute_status_setters
from muteadmin.tencent.errors import TencentError
from muteadmin.tencent.nospeaking import MuteStatus


class ChangeGuardMixin:
    """For the account page: confirmations, stale refusals and the change form's state.

    Uses the view's `app`, `request` and `render_account`.
    """

    def seen_confirmation(
        self, account: str, *, form: MuteChangeForm, seen: SeenMutes
    ) -> Confirmation:
        """The confirmation for a change made on the state the moderator's page showed."""
        now = datetime.fromtimestamp(clock().time(), UTC)
        elapsed = max((now - seen.seen_at).total_seconds(), 0.0)
        seconds = {kind: seen.seconds(kind) for kind in KINDS}
        setters = mute_setters(account=account, seconds=seconds, at=seen.seen_at, app=self.app.name)
        return change_confirmation(
            account=account,
            operator=self.request.user.get_username(),
            requested={kind: form.cleaned_data[f"{kind}_seconds"] for kind in KINDS},
            seconds={kind: run_down(value, elapsed=elapsed) for kind, value in seconds.items()},
            setters=setters,
            now=now,
        )

    def render_stale(
        self, account: str, *, form: MuteChangeForm, stale: StaleMuteState
    ) -> HttpResponse:
        """The state found instead of the one seen, and the change offered again to confirm."""
        status = stale.status
        setters = mute_status_setters(status=status, app=self.app.name)
        confirmation = change_confirmation(
            account=account,
            operator=self.request.user.get_username(),
            requested={kind: form.cleaned_data[f"{kind}_seconds"] for kind in KINDS},
            seconds={kind: getattr(status, f"{kind}_seconds") for kind in KINDS},
            setters=setters,
            now=status.observed_at,
        )
        lifters = mute_lifters(
            account=account,
            kinds=[kind for kind in stale.kinds if not getattr(status, f"{kind}_seconds")],
            since=stale.seen.seen_at,
            app=self.app.name,
        )
        moved = stale_sentences(
            kinds=stale.kinds,
            seen={kind: stale.seen.seconds(kind) for kind in KINDS},
            seconds={kind: getattr(status, f"{kind}_seconds") for kind in KINDS},
            setters=setters,
            lifters=lifters,
            now=status.observed_at,
        )
        return self.render_account(
            account,
            form=form,
            status=status,
            setters=setters,
            confirmation=Confirmation(sentences=confirmation.sentences, required=True),
            stale=moved,
        )

    def change_context(
        self,
        form: MuteChangeForm | None,
        *,
        status: MuteStatus | None,
        unknown: TencentError | None,
        change_error: TencentError | None,
        sent: bool,
        confirmation: Confirmation | None,
        stale: tuple[str, ...],
    ) -> dict:
        """What the change form and its confirmation need beyond the form itself."""
        if form is None:
            return {}
        if status is not None:
            seen = seen_values(status)
        else:
            seen = {name: form.data.get(name, "") for name in SEEN_FIELDS} if form.is_bound else {}
        resubmit = []
        if confirmation is not None:
            resubmit = [
                (name, value)
                for name, values in form.data.lists()
                if name not in ("csrfmiddlewaretoken", "confirm", *SEEN_FIELDS)
                for value in values
            ] + list(seen.items())
        return {
            "seen": seen,
            "form_locked": form_locked_reason(unknown) if status is None and unknown else "",
            "change_error": change_error.change_message(sent=sent) if change_error else "",
            "change_error_code": change_error.code_label if change_error else "",
            "confirmation": confirmation,
            "resubmit": resubmit,
            "stale": stale,
        }


def form_locked_reason(error: TencentError) -> str:
    """Why the change form is disabled: the account's state could not be read, or it is missing."""
    if error.account_missing:
        return _(
            "Changes are disabled: Tencent says this account does not exist in the chat app, so "
            "there is nothing to mute. Check the account ID."
        )
    return _(
        "Changes are disabled: the current mutes could not be read, and a change is only made "
        "against a known state. Reload the page once Tencent answers."
    )
