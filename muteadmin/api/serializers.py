"""The API's request bodies (checked here for their JSON types) and answers (for the schema).

What a value means is checked afterwards by the pages' own forms (MuteChangeForm, BulkForm), so
a length, a rule or a reason means the same through the API as on a page.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from muteadmin.bulk.models import BulkJob
from muteadmin.notices.models import NoticeTemplate
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.nospeaking import PERMANENT

SECONDS_HELP = _(
    "Seconds from now: 0 lifts the mute, 4294967295 is permanent; omitted or null: untouched."
)

# Texts several answers' fields share.
OBSERVED = _("Seconds left that Tencent answered; null: not asked.")
REQUESTED = _("Seconds asked for; null: untouched.")
TENCENT_CODE = _("Tencent's ErrorCode, for a failed call.")
TENCENT_INFO = _("Tencent's ErrorInfo, for a failed call.")
STATE = _("muted, permanent or none.")
EXPIRES = _("When it runs out; null: never, or no mute.")


class MuteKindSerializer(serializers.Serializer):
    remaining_seconds = serializers.IntegerField(
        min_value=0,
        max_value=PERMANENT,
        help_text=_("Seconds left: 0 is no mute, 4294967295 a permanent one."),
    )
    permanent = serializers.BooleanField(read_only=True, help_text=_("Whether it never runs out."))
    ends_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text=EXPIRES)


class ExpectedKindSerializer(serializers.Serializer):
    remaining_seconds = serializers.IntegerField(
        min_value=0, max_value=PERMANENT, help_text=_("Seconds left, as the lookup answered.")
    )


class ExpectedSerializer(serializers.Serializer):
    """The state the caller saw (a GET's answer will do): a change is refused if it moved."""

    c2c = ExpectedKindSerializer(help_text=_("The C2C mute."))
    group = ExpectedKindSerializer(help_text=_("The group mute."))
    observed_at = serializers.DateTimeField(help_text=_("When that state was read."))


class MuteChangeFields(serializers.Serializer):
    """What the account page's change form asks, as JSON."""

    c2c_seconds = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=PERMANENT, help_text=SECONDS_HELP
    )
    group_seconds = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=PERMANENT, help_text=SECONDS_HELP
    )
    reason = serializers.CharField(max_length=500, help_text=_("Kept in the audit log."))
    rule = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=32,
        help_text=_("The policy rule's code; needed to set a length once rules exist."),
    )
    notify = serializers.BooleanField(
        required=False, default=False, help_text=_("Send the account a notice after the change.")
    )
    notice_language = serializers.ChoiceField(
        choices=NoticeTemplate.Language.choices,
        required=False,
        allow_blank=True,
        help_text=_("The notice's language; the rule's notice template in it is sent."),
    )


class MuteChangeRequest(MuteChangeFields):
    expected = ExpectedSerializer(
        required=False,
        allow_null=True,
        help_text=_(
            "The state the caller saw (a lookup's answer will do): if a mute moved by more than "
            "the time since, nothing is sent (409). Omitted or null: no such check."
        ),
    )


class MuteStateSerializer(serializers.Serializer):
    account = serializers.CharField(help_text=_("The account's UserID."))
    app = serializers.CharField(help_text=_("The app's name."))
    c2c = MuteKindSerializer(help_text=_("The C2C mute."))
    group = MuteKindSerializer(help_text=_("The group mute."))
    observed_at = serializers.DateTimeField(help_text=_("When Tencent answered."))
    audit_id = serializers.IntegerField(
        allow_null=True, help_text=_("The audit row of the query (or the change).")
    )


class NoticeOutcomeSerializer(serializers.Serializer):
    sent = serializers.BooleanField(help_text=_("Whether the notice went."))
    detail = serializers.CharField(help_text=_("What happened to it, as a sentence."))


class MuteChangeAnswer(MuteStateSerializer):
    sent = serializers.BooleanField(help_text=_("False when every lift asked for was of no mute."))
    not_muted = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The kinds asked to be lifted that were not muted (nothing sent for them)."),
    )
    before = MuteStateSerializer(help_text=_("The mutes before the change."))
    notice = NoticeOutcomeSerializer(
        allow_null=True, help_text=_("The notice's outcome; null when none was asked for.")
    )


class ApprovalRequestAnswer(serializers.Serializer):
    request_id = serializers.IntegerField(help_text=_("The request's number."))
    status = serializers.CharField(help_text=_("The request's state: pending."))
    detail = serializers.CharField(help_text=_("What happens next, as a sentence."))


def _user_id(value: str) -> None:
    try:
        validate_account(value)
    except InvalidAccount as exc:
        raise serializers.ValidationError(str(exc), code="invalid_account") from None


class AccountListField(serializers.ListField):
    child = serializers.CharField(max_length=64, trim_whitespace=False, validators=[_user_id])


class BulkJobRequest(MuteChangeFields):
    operation = serializers.ChoiceField(
        choices=BulkJob.Operation.choices,
        help_text=_("lookup asks each account's mutes; set changes them; lift lifts them."),
    )
    accounts = AccountListField(min_length=1, help_text=_("UserIDs, each once."))
    reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text=_("Kept in the audit log; needed for a change or a lift."),
    )


class BulkStatusSerializer(serializers.Serializer):
    state = serializers.CharField(
        help_text=_("scheduled, queued, running, done or cancelled."),
    )
    total = serializers.IntegerField(help_text=_("Accounts in the job."))
    done = serializers.IntegerField(help_text=_("Accounts tried so far."))
    ok = serializers.IntegerField(help_text=_("Accounts whose call succeeded."))
    errors = serializers.IntegerField(help_text=_("Accounts whose call failed."))
    not_sent = serializers.IntegerField(
        help_text=_("Accounts never tried, once the job is over (cancelled or cut off).")
    )
    calls_per_second = serializers.FloatField(help_text=_("The recent rate of calls."))
    eta_seconds = serializers.IntegerField(
        allow_null=True, help_text=_("Seconds left at that rate; null: unknown or over.")
    )
    cancel_requested = serializers.BooleanField(help_text=_("Whether someone cancelled it."))


class BulkJobAnswer(BulkStatusSerializer):
    id = serializers.IntegerField(help_text=_("The job's number."))


class BulkResultSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text=_("The account's place in the list, from 1."))
    account = serializers.CharField(help_text=_("The account's UserID."))
    outcome = serializers.CharField(help_text=_("ok, error or not_sent."))
    error_code = serializers.IntegerField(allow_null=True, help_text=TENCENT_CODE)
    error_info = serializers.CharField(help_text=TENCENT_INFO)
    c2c_observed = serializers.IntegerField(allow_null=True, help_text=OBSERVED)
    group_observed = serializers.IntegerField(allow_null=True, help_text=OBSERVED)


class AuditRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("The row's number."))
    created_at = serializers.DateTimeField(help_text=_("When it was written, before any call."))
    completed_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the call answered; null: still pending.")
    )
    operator = serializers.CharField(help_text=_("Who did it: a username, or token:<name>."))
    on_behalf_of = serializers.CharField(
        allow_null=True, help_text=_("Whose approved request it carried out; null: nobody's.")
    )
    action = serializers.CharField(help_text=_("What was done: query, change, denied..."))
    account = serializers.CharField(help_text=_("The account's UserID."))
    app = serializers.CharField(help_text=_("The app's name."))
    c2c_requested = serializers.IntegerField(allow_null=True, help_text=REQUESTED)
    group_requested = serializers.IntegerField(allow_null=True, help_text=REQUESTED)
    c2c_observed = serializers.IntegerField(allow_null=True, help_text=OBSERVED)
    group_observed = serializers.IntegerField(allow_null=True, help_text=OBSERVED)
    reason = serializers.CharField(help_text=_("The reason given."))
    rule = serializers.CharField(help_text=_("The policy rule's code; empty: none."))
    outcome = serializers.CharField(help_text=_("pending, ok, error or unknown."))
    error_code = serializers.IntegerField(allow_null=True, help_text=TENCENT_CODE)
    error_info = serializers.CharField(help_text=TENCENT_INFO)
    job_id = serializers.IntegerField(
        allow_null=True, help_text=_("The bulk job it was part of; null: none.")
    )
    correlation_id = serializers.UUIDField(
        allow_null=True, help_text=_("The same on every row of one operation.")
    )


class ReportRowSerializer(serializers.Serializer):
    app = serializers.CharField(help_text=_("The app's name."))
    account = serializers.CharField(help_text=_("The account's UserID."))
    c2c_state = serializers.CharField(help_text=STATE)
    c2c_expires_at = serializers.DateTimeField(allow_null=True, help_text=EXPIRES)
    group_state = serializers.CharField(help_text=STATE)
    group_expires_at = serializers.DateTimeField(allow_null=True, help_text=EXPIRES)
    last_change_at = serializers.DateTimeField(
        allow_null=True, help_text=_("The last change made here; null: none seen.")
    )
    last_operator = serializers.CharField(help_text=_("Who made that change."))
    last_reason = serializers.CharField(help_text=_("The reason they gave."))
    rule = serializers.CharField(help_text=_("The policy rule's code; empty: none."))
    observed_at = serializers.DateTimeField(help_text=_("When the state was last seen."))


def paged(name: str, row: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """A page of `row`s with the URLs of the pages on either side (null: none there)."""
    fields = {
        "results": row(many=True, help_text=_("This page's rows.")),
        "next": serializers.CharField(
            allow_null=True, help_text=_("The following page's address; null: none.")
        ),
        "previous": serializers.CharField(
            allow_null=True, help_text=_("The page before's address; null: none.")
        ),
    }
    return type(name, (serializers.Serializer,), fields)


BulkResultsPage = paged("BulkResultsPage", BulkResultSerializer)
AuditPage = paged("AuditPage", AuditRowSerializer)
ReportPage = paged("ReportPage", ReportRowSerializer)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with the extension members this API adds."""

    type = serializers.CharField(help_text=_("urn:muteadmin:problem: and the kind of refusal."))
    title = serializers.CharField(help_text=_("The kind of refusal, in words."))
    status = serializers.IntegerField(help_text=_("The HTTP status."))
    detail = serializers.CharField(help_text=_("What happened and what to do, as a sentence."))
    errors = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text=_("For a 400: one {field, message, code} per problem (field null: the request)."),
    )
    error_code = serializers.IntegerField(required=False, allow_null=True, help_text=TENCENT_CODE)
    error_info = serializers.CharField(required=False, help_text=TENCENT_INFO)
