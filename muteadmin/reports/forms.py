"""The mute report's filters: the audit log's operator and date fields, read the same way."""

from django import forms
from django.utils.translation import gettext_lazy as _

from muteadmin.audit.filters import AuditFilterForm, typed_filters
from muteadmin.core.pagination import CursorError
from muteadmin.reports.selectors import FILTER_NAMES, REPORT_KEYSET, MuteReportFilters


class MuteReportForm(AuditFilterForm):
    """Operator, since and until read as the audit page reads them, plus run-out mutes."""

    error_messages = {
        **AuditFilterForm.error_messages,
        "include_expired": _(
            "To include mutes that have run out, set include_expired to 1; to leave them out, "
            "to 0 or nothing."
        ),
    }

    # The audit log's other filters mean nothing for a report of accounts.
    account = None
    action = None
    outcome = None
    q = None
    job = None

    include_expired = forms.BooleanField(
        required=False,
        label=_("Include mutes that have run out"),
        widget=forms.CheckboxInput(attrs={"value": "1"}),
    )

    def clean_include_expired(self) -> bool:
        # The checkbox sends 1; a shared URL saying include_expired=0 (or false, off) means off.
        typed = self.data.get("include_expired", "").strip().lower()
        if typed in ("", "0", "false", "off", "no"):
            return False
        if typed in ("1", "true", "on", "yes"):
            return True
        raise forms.ValidationError(self.error_messages["include_expired"], code="include_expired")

    def report_filters(self) -> MuteReportFilters:
        """The cleaned filters; call after is_valid()."""
        data = self.cleaned_data
        return MuteReportFilters(
            operator=(data.get("operator") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            include_expired=bool(data.get("include_expired")),
            app=data.get("app") or "",
            rule=(data.get("rule") or "").lower(),
            query_string=typed_filters(self, FILTER_NAMES),
        )


class MuteReportPageForm(MuteReportForm):
    """The report's filters plus the page's cursor (`after` or `before`)."""

    error_messages = {
        **MuteReportForm.error_messages,
        "cursor": _("This page link is damaged or out of date; start again from the first page."),
    }

    after = forms.CharField(required=False, widget=forms.HiddenInput)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_after(self) -> str | None:
        return self._cursor("after")

    def clean_before(self) -> str | None:
        return self._cursor("before")

    def _cursor(self, name: str) -> str | None:
        text = self.cleaned_data.get(name, "").strip()
        if not text:
            return None
        try:
            REPORT_KEYSET.decode(text)
            return text
        except CursorError:
            raise forms.ValidationError(self.error_messages["cursor"], code="cursor") from None
