"""The audit log's filters: one form read from the query string, shared by the page and exports."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from muteadmin.audit.models import AuditEntry, AuditHourlyCount
from muteadmin.upstream.registry import tim_apps

# Names in the query string, in the order a shared URL lists them.
FILTER_NAMES = ("account", "operator", "action", "outcome", "since", "until", "q", "job", "app")


@dataclass(frozen=True)
class AuditFilters:
    """What to show: every field left empty means "any"; times are aware and in UTC."""

    account: str = ""
    operator: str = ""
    actions: tuple[str, ...] = ()
    outcome: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    q: str = ""
    job: int | None = None
    # An app's name; the default app's also matches rows written before apps had names.
    app: str = ""
    query_string: dict[str, list[str]] = field(default_factory=dict, compare=False)

    @property
    def is_empty(self) -> bool:
        return not (
            self.account
            or self.operator
            or self.actions
            or self.outcome
            or self.since
            or self.until
            or self.q
            or self.job
            or self.app
        )

    def as_details(self) -> dict[str, list[str]]:
        """The filters as typed, for an export's audit row."""
        return {name: values for name, values in self.query_string.items() if values}


class MomentField(forms.CharField):
    """A date (a whole day) or a date and time, in the moderator's time zone."""

    default_error_messages = {
        "invalid": "Enter a date as 2026-11-25 or a date and time as 2026-11-25 14:30.",
    }

    def to_python(self, value: str) -> datetime | date | None:
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(value.replace("T", " ", 1))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return moment


def _aware(moment: datetime | date, *, end_of_day: bool) -> datetime:
    """A typed moment as an aware UTC datetime; a bare date means its start (or the next day's)."""
    if not isinstance(moment, datetime):
        day = moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(timezone.UTC)


class AuditFilterForm(forms.Form):
    """The audit page's filters; every field is optional and unknown values are errors."""

    error_messages = {
        "reversed": "The 'since' moment is after the 'until' moment; swap them.",
        "job": "A bulk job is named by its number, as in /bulk/12/.",
    }

    account = forms.CharField(required=False, max_length=64, strip=False)
    operator = forms.CharField(required=False, max_length=150)
    action = forms.MultipleChoiceField(
        required=False, choices=AuditEntry.Action.choices, widget=forms.CheckboxSelectMultiple
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *AuditEntry.Outcome.choices]
    )
    since = MomentField(required=False, help_text="From this date or moment on (your time zone).")
    until = MomentField(
        required=False, help_text="Up to this moment, or to the end of this date (your time zone)."
    )
    q = forms.CharField(required=False, max_length=200, label="Reason contains")
    job = forms.CharField(required=False, max_length=20, label="Bulk job")
    # Its choices (configured apps, then any other name the log holds) are set per form.
    app = forms.ChoiceField(required=False, label="App")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if len(tim_apps()) < 2:
            # One app: nothing to choose, and the page stays as it was before there were apps.
            del self.fields["app"]
            return
        names = audit_app_names()
        app = self.fields["app"]
        app.choices = [("", "Any app"), *((name, name) for name in names)]
        app.error_messages["invalid_choice"] = (
            f"There is no app named %(value)s here; choose one of: {', '.join(names)}."
        )

    def clean_job(self) -> int | None:
        typed = self.cleaned_data.get("job", "").strip()
        if not typed:
            return None
        if not (typed.isascii() and typed.isdigit()) or int(typed) == 0:
            raise ValidationError(self.error_messages["job"], code="job")
        return int(typed)

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since is not None:
            cleaned["since"] = _aware(since, end_of_day=False)
        if until is not None:
            cleaned["until"] = _aware(until, end_of_day=True)
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] >= cleaned["until"]:
            raise ValidationError(self.error_messages["reversed"], code="reversed")
        return cleaned

    def filters(self) -> AuditFilters:
        """The cleaned filters; call after is_valid()."""
        data = self.cleaned_data
        return AuditFilters(
            account=data.get("account") or "",
            operator=(data.get("operator") or "").strip(),
            actions=tuple(data.get("action") or ()),
            outcome=data.get("outcome") or "",
            since=data.get("since"),
            until=data.get("until"),
            q=(data.get("q") or "").strip(),
            job=data.get("job"),
            app=data.get("app") or "",
            # The filters exactly as typed (self.data is the request's QueryDict).
            query_string={
                name: self.data.getlist(name) for name in FILTER_NAMES if name in self.data
            },
        )


def audit_app_names() -> list[str]:
    """The apps to filter by: the configured ones, then any other name the log has counted."""
    names = list(tim_apps())
    # The hourly counts hold every app the log holds, in a table a thousand times smaller.
    seen = AuditHourlyCount.objects.order_by("app").values_list("app", flat=True).distinct()
    return names + [name for name in seen if name not in names]
