"""The watchlist's forms: accounts to add (typed or pasted, one a line), an account to remove."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy, ngettext

from muteadmin.reconcile.watchlist import PASTE_MAX
from muteadmin.tencent.accounts import InvalidAccount, validate_account

# Invalid lines named in the error at most; the rest are counted.
SHOWN_INVALID = 5


class WatchlistAddForm(forms.Form):
    error_messages = {
        "empty": gettext_lazy("Type or paste at least one UserID, one a line."),
        "too_many": gettext_lazy(
            "A paste adds at most %(limit)s accounts and this one has %(count)s; split it."
        ),
    }

    accounts = forms.CharField(
        label=gettext_lazy("Accounts to watch"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "One UserID a line; spaces around each are dropped. Already watched ones are skipped."
        ),
    )

    def clean_accounts(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["accounts"].splitlines()]
        accounts = [line for line in lines if line]
        if not accounts:
            raise ValidationError(self.error_messages["empty"], code="empty")
        if len(accounts) > PASTE_MAX:
            message = self.error_messages["too_many"] % {
                "limit": f"{PASTE_MAX:,}",
                "count": f"{len(accounts):,}",
            }
            raise ValidationError(message, code="too_many")
        invalid = []
        for number, account in enumerate(accounts, 1):
            try:
                validate_account(account)
            except InvalidAccount as exc:
                invalid.append(
                    gettext("line %(number)s: %(error)s") % {"number": number, "error": exc}
                )
        if invalid:
            shown = "; ".join(invalid[:SHOWN_INVALID])
            more = (
                gettext(" and %(count)s more") % {"count": f"{len(invalid) - SHOWN_INVALID:,}"}
                if len(invalid) > SHOWN_INVALID
                else ""
            )
            message = ngettext(
                "Nothing was added: %(lines)s%(more)s. Correct or remove it and add again.",
                "Nothing was added: %(lines)s%(more)s. Correct or remove them and add again.",
                len(invalid),
            ) % {"lines": shown, "more": more}
            raise ValidationError(message, code="invalid")
        return list(dict.fromkeys(accounts))


class WatchlistRemoveForm(forms.Form):
    account = forms.CharField(max_length=64, strip=False)

    def clean_account(self) -> str:
        account = self.cleaned_data["account"]
        try:
            validate_account(account)
        except InvalidAccount as exc:
            raise ValidationError(str(exc), code="invalid") from exc
        return account
