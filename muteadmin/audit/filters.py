"""The audit log's filters: one form read from the query string, shared by the page and exports."""

from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.audit.models import AuditEntry, AuditHourlyCount
from muteadmin.core.formfocus import RefusedFieldFocus
from muteadmin.core.moment_input import MomentInput
from muteadmin.upstream.registry import tim_apps

# Names in the query string, in the order a shared URL lists them.
FILTER_NAMES = (
    "account",
    "operator",
    "action",
    "outcome",
    "since",
    "until",
    "q",
    "job",
    "app",
    "rule",
)
# The earliest and latest moments a filter reaches: a moment typed beyond them (0001-01-01,
# 9999-12-31) means the same, as no row is that old or that new. A year inside the calendar's
# ends, so any time zone's offset and the chart's days around them still fit in a datetime.
EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
LATEST = datetime(MAXYEAR - 1, 12, 31, tzinfo=UTC)
# The largest number a bulk job (a 64-bit database key) can have.
LARGEST_JOB = 2**63 - 1


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
    # A policy rule's code (muteadmin.rules): the changes made under it, and its own changes.
    rule: str = ""
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
            or self.rule
        )

    def as_details(self) -> dict[str, list[str]]:
        """The filters as typed, for an export's audit row."""
        return {name: values for name, values in self.query_string.items() if values}


class MomentField(forms.CharField):
    """A date (a whole day) or a date and time, in the moderator's time zone."""

    default_error_messages = {
        "invalid": gettext_lazy(
            "Enter a date as 2026-11-25 or a date and time as 2026-11-25 14:30."
        ),
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


def _aware(typed: datetime | date, *, end_of_day: bool) -> datetime:
    """A typed moment as an aware UTC datetime; a bare date means its start (or the next day's).

    Kept between EARLIEST and LATEST, also when the calendar ends before the moment does.
    """
    try:
        moment = typed
        if not isinstance(moment, datetime):
            day = moment + timedelta(days=1) if end_of_day else moment
            moment = datetime.combine(day, time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        moment = moment.astimezone(UTC)
    except OverflowError:
        return LATEST if typed.year == MAXYEAR else EARLIEST
    return min(max(moment, EARLIEST), LATEST)


class AuditFilterForm(forms.Form):
    """The audit page's filters; every field is optional and unknown values are errors."""

    # Drawn by the fast renderer (audit/views.py), so the focus on a refused field is asked here.
    bound_field_class = RefusedFieldFocus

    error_messages = {
        "reversed": gettext_lazy("The 'since' moment is after the 'until' moment; swap them."),
        "job": gettext_lazy("A bulk job is named by its number, as in /bulk/12/."),
        "job_range": gettext_lazy(
            "No bulk job has a number that large; a job is named by its number, as in /bulk/12/."
        ),
    }

    account = forms.CharField(
        required=False, max_length=64, strip=False, label=gettext_lazy("Account")
    )
    operator = forms.CharField(required=False, max_length=150, label=gettext_lazy("Operator"))
    action = forms.MultipleChoiceField(
        required=False,
        label=gettext_lazy("Action"),
        choices=AuditEntry.Action.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    outcome = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Outcome"),
        choices=[("", gettext_lazy("Any outcome")), *AuditEntry.Outcome.choices],
    )
    since = MomentField(
        required=False,
        widget=MomentInput(),
        label=gettext_lazy("Since"),
        help_text=gettext_lazy("From this date or moment on (your time zone)."),
    )
    until = MomentField(
        required=False,
        widget=MomentInput(end_of_day=True),
        label=gettext_lazy("Until"),
        help_text=gettext_lazy("Up to this moment, or to the end of this date (your time zone)."),
    )
    q = forms.CharField(required=False, max_length=200, label=gettext_lazy("Reason contains"))
    job = forms.CharField(required=False, max_length=20, label=gettext_lazy("Bulk job"))
    # Its choices (configured apps, then any other name the log holds) are set per form.
    app = forms.ChoiceField(required=False, label=gettext_lazy("App"))
    rule = forms.SlugField(
        required=False,
        max_length=32,
        label=gettext_lazy("Rule"),
        error_messages={"invalid": gettext_lazy("A rule is named by its code, as in spam.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if len(tim_apps()) < 2:
            # One app: nothing to choose, and the page stays as it was before there were apps.
            del self.fields["app"]
            return
        names = audit_app_names()
        app = self.fields["app"]
        app.choices = [("", _("Any app")), *((name, name) for name in names)]
        app.error_messages["invalid_choice"] = _(
            "There is no app named %(value)s here; choose one of: %(names)s."
        ).replace("%(names)s", ", ".join(names))

    def clean_job(self) -> int | None:
        typed = self.cleaned_data.get("job", "").strip()
        if not typed:
            return None
        if not (typed.isascii() and typed.isdigit()) or int(typed) == 0:
            raise ValidationError(self.error_messages["job"], code="job")
        if int(typed) > LARGEST_JOB:
            raise ValidationError(self.error_messages["job_range"], code="job_range")
        return int(typed)

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since is not None:
            cleaned["since"] = _aware(since, end_of_day=False)
        if until is not None:
            cleaned["until"] = _aware(until, end_of_day=True)
        since, until = cleaned.get("since"), cleaned.get("until")
        # Both at the same end of the calendar: nothing matches, but nothing was typed backwards.
        at_one_end = since == until and since in (EARLIEST, LATEST)
        if since and until and since >= until and not at_one_end:
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
            rule=(data.get("rule") or "").lower(),
            query_string=typed_filters(self, FILTER_NAMES),
        )


def typed_filters(form: forms.Form, names: tuple[str, ...]) -> dict[str, list[str]]:
    """The filters exactly as typed (form.data is the request's QueryDict), for links and exports.

    Only the values the form read and accepted: a name it has no field for, or a value repeated
    where it reads only the last one, is left out, so nothing unchecked reaches an audit row.
    """
    typed = {}
    for name in names:
        if name not in form.fields or name not in form.data:
            continue
        if isinstance(form.fields[name], forms.MultipleChoiceField):
            typed[name] = form.data.getlist(name)
        else:
            typed[name] = [form.data[name]]
    return typed


def audit_app_names() -> list[str]:
    """The apps to filter by: the configured ones, then any other name the log has counted."""
    names = list(tim_apps())
    # The hourly counts hold every app the log holds, in a table a thousand times smaller.
    seen = AuditHourlyCount.objects.order_by("app").values_list("app", flat=True).distinct()
    return names + [name for name in seen if name not in names]
