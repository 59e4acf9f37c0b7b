"""The bulk form: a list of accounts (pasted or a CSV file), what to do with them, and why."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.services import bulk_max_accounts
from muteadmin.core.moments import LOCAL_INPUT_FORMATS
from muteadmin.mutes.forms import KINDS, MuteChangeForm
from muteadmin.tencent.accounts import InvalidAccount, validate_account

# Lines read at most, counting blanks, invalid ids and duplicates, so a huge paste fails fast:
# this many times the accounts a job takes.
MAX_LINES_PER_ACCOUNT = 2
MAX_FILE_BYTES = 10 * 1024 * 1024
# A job started later starts at least this far ahead (else start it now) and at most this far.
START_SOONEST = timedelta(minutes=1)
START_LATEST = timedelta(days=366)
# A first CSV cell with one of these names (any case) is a header, not an account.
CSV_HEADER_NAMES = frozenset(
    {
        "account",
        "accounts",
        "account id",
        "account_id",
        "userid",
        "user id",
        "user_id",
        "identifier",
    }
)
# The preview lists this many invalid lines and merged duplicates, then says how many more.
PREVIEW_LIMIT = 100
# A line holding one of these probably lists several ids ("alice, bob"): the preview asks.
SEVERAL_IDS = re.compile(r"[,;\t]")


@dataclass(frozen=True)
class InvalidLine:
    """A line that is not an account, and why, in the words of the account page."""

    line: int
    value: str
    reason: str


@dataclass
class AccountList:
    """The accounts read from the form, in first-seen order, with what was set aside."""

    valid: list[str] = field(default_factory=list)
    invalid: list[InvalidLine] = field(default_factory=list)
    # Each id that appeared more than once, with how many extra times.
    duplicates: dict[str, int] = field(default_factory=dict)
    # Valid ids that start or end with a space: kept as typed, but worth a second look.
    padded: list[str] = field(default_factory=list)
    # Lines holding commas, semicolons or tabs (valid or not), as (line number, value).
    several: list[tuple[int, str]] = field(default_factory=list)
    # The whole list again, one id a line, those lines split at their separators.
    split_text: str = ""

    @property
    def duplicate_list(self) -> list[tuple[str, int]]:
        return list(self.duplicates.items())

    @property
    def duplicate_count(self) -> int:
        return sum(self.duplicates.values())


def accounts_read(values: list[tuple[int, str]]) -> AccountList:
    """Validate (line number, value) pairs: keep valid ids once each, explain the rest."""
    result = AccountList()
    seen: set[str] = set()
    split: list[str] = []
    for line, value in values:
        if SEVERAL_IDS.search(value):
            result.several.append((line, value))
            split.extend(part.strip() for part in SEVERAL_IDS.split(value) if part.strip())
        else:
            split.append(value)
        try:
            validate_account(value)
        except InvalidAccount as exc:
            result.invalid.append(InvalidLine(line=line, value=value, reason=str(exc)))
            continue
        if value in seen:
            result.duplicates[value] = result.duplicates.get(value, 0) + 1
            continue
        seen.add(value)
        result.valid.append(value)
        if value != value.strip(" "):
            result.padded.append(value)
    if result.several:
        result.split_text = "\n".join(split)
    return result


def pasted_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines of a pasted list, numbered from 1, each kept exactly as typed."""
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def csv_first_column(text: str) -> list[tuple[int, str]]:
    """The first cell of each non-empty CSV row, numbered from 1, without a header row."""
    values = []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
        if not row or not row[0].strip():
            continue
        if not values and row[0].strip().lower() in CSV_HEADER_NAMES:
            continue
        values.append((number, row[0]))
    return values


class BulkForm(MuteChangeForm):
    """What the account page's change form asks, for a list of accounts; validation only."""

    error_messages = {
        **MuteChangeForm.error_messages,
        "no_accounts": _("Paste at least one account, one per line, or upload a CSV file."),
        "both_sources": _("Paste accounts or upload a file, not both."),
        "too_many_lines": _(
            "That list has more than {lines:,} lines; a job takes at most "
            "{limit:,} accounts. Split it into several jobs."
        ),
        "too_many": _(
            "A job takes at most {limit:,} accounts and this list has {count:,}. "
            "Split it into several jobs."
        ),
        "none_valid": _("None of the lines is a valid account; see why below."),
        "file_too_big": _("The file is larger than 10 MB; split it into several files."),
        "file_not_text": _(
            "The file is not UTF-8 text; save it from your spreadsheet as CSV UTF-8."
        ),
        "file_not_csv": _("The file could not be read as CSV: {error}."),
        "change_denied": _("You may not change mutes; ask a Lead to run this job."),
    }

    accounts = forms.CharField(
        label=_("Accounts (one UserID a line)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "autocomplete": "off"}),
    )
    file = forms.FileField(
        label=_("…or a CSV file (first column; a header row is optional)"), required=False
    )
    operation = forms.ChoiceField(
        label=_("Operation"),
        choices=BulkJob.Operation.choices,
        initial=BulkJob.Operation.LOOKUP,
        widget=forms.RadioSelect,
    )
    starts_at = forms.DateTimeField(
        label=_("Start at (optional)"),
        required=False,
        help_text=_(
            "In your time zone: the job waits until then, and can be cancelled while it waits. "
            "Empty: it starts at once."
        ),
        input_formats=LOCAL_INPUT_FORMATS,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M"
        ),
        error_messages={"invalid": _("Enter a date and time, such as 2026-12-24 18:00.")},
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_starts_at(self) -> datetime | None:
        starts_at = self.cleaned_data.get("starts_at")
        if starts_at is None:
            return None
        now = timezone.now()
        if starts_at < now + START_SOONEST:
            raise ValidationError(
                _("Pick a time at least a minute from now, or leave it empty to start at once."),
                code="too_soon",
            )
        if starts_at > now + START_LATEST:
            raise ValidationError(_("Pick a time within a year from now."), code="too_late")
        return starts_at

    def __init__(self, *args, can_change: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.can_change = can_change
        # A review reminder follows one account's change, on its page.
        self.fields.pop("review")
        # Lookups need no reason; changes do, with the account page's message.
        self.fields["reason"].required = False
        self.account_list: AccountList | None = None

    def clean(self) -> dict:
        # The list first, so the preview can explain it whatever else is wrong.
        self._accounts_clean()
        cleaned = self.cleaned_data
        operation = cleaned.get("operation")
        if operation in (BulkJob.Operation.SET, BulkJob.Operation.LIFT):
            if not self.can_change:
                raise ValidationError(self.error_messages["change_denied"], code="change_denied")
            if not cleaned.get("reason") and "reason" not in self.errors:
                self.add_error("reason", self.fields["reason"].error_messages["required"])
        if operation == BulkJob.Operation.SET:
            # The account page's rules for the two lengths, presets and Permanently included.
            return super().clean()
        # A lookup or a lift ignores the length fields: whatever they hold is not sent.
        seconds = 0 if operation == BulkJob.Operation.LIFT else None
        for kind in KINDS:
            for name in (f"{kind}_seconds", f"{kind}_custom", f"{kind}_custom_unit"):
                self._errors.pop(name, None)
            cleaned[f"{kind}_seconds"] = seconds
        if operation != BulkJob.Operation.LIFT:
            cleaned["reason"] = ""
            cleaned["rule"] = None
        self._notify_clean(cleaned)
        return cleaned

    def _accounts_clean(self) -> None:
        text = self.cleaned_data.get("accounts") or ""
        upload = self.cleaned_data.get("file")
        if upload and text.strip():
            self.add_error("accounts", self._error("both_sources"))
            return
        if upload:
            values = self._uploaded_values(upload)
            if values is None:
                return
        else:
            values = pasted_lines(text)
        if not values:
            self.add_error("accounts", self._error("no_accounts"))
            return
        limit = bulk_max_accounts()
        if len(values) > MAX_LINES_PER_ACCOUNT * limit:
            message = self.error_messages["too_many_lines"].format(
                lines=MAX_LINES_PER_ACCOUNT * limit, limit=limit
            )
            self.add_error("accounts", ValidationError(message, code="too_many_lines"))
            return
        self.account_list = accounts_read(values)
        if len(self.account_list.valid) > limit:
            message = self.error_messages["too_many"].format(
                limit=limit, count=len(self.account_list.valid)
            )
            self.add_error("accounts", ValidationError(message, code="too_many"))
        elif not self.account_list.valid:
            self.add_error("accounts", self._error("none_valid"))

    def _uploaded_values(self, upload) -> list[tuple[int, str]] | None:
        if upload.size > MAX_FILE_BYTES:
            self.add_error("file", self._error("file_too_big"))
            return None
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            self.add_error("file", self._error("file_not_text"))
            return None
        try:
            return csv_first_column(text)
        except csv.Error as exc:
            message = self.error_messages["file_not_csv"].format(error=exc)
            self.add_error("file", ValidationError(message, code="file_not_csv"))
            return None

    def _error(self, code: str) -> ValidationError:
        return ValidationError(self.error_messages[code], code=code)

    @property
    def confirmed(self) -> bool:
        """Whether this POST is the second one, which starts the job."""
        return bool(self.is_valid() and self.cleaned_data.get("confirm"))

    @property
    def has_invalid_lines(self) -> bool:
        return bool(self.account_list and self.account_list.invalid)

    def carried_fields(self) -> list[tuple[str, str]]:
        """(name, value) of every field but the list itself, as posted, for the confirm form."""
        pairs = []
        for name in self.fields:
            if name in ("accounts", "file", "confirm"):
                continue
            value = self.data.get(name)
            if value is not None:
                pairs.append((name, value))
        return pairs
