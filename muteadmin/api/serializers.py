"""The API's request bodies (checked here for their JSON types) and answers (for the schema).

What a value means is checked afterwards by the pages' own forms (MuteChangeForm, BulkForm), so
a length, a rule or a reason means the same through the API as on a page.
"""

from rest_framework import serializers

from muteadmin.bulk.models import BulkJob
from muteadmin.notices.models import NoticeTemplate
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.nospeaking import PERMANENT

SECONDS_HELP = (
    "Seconds from now: 0 lifts the mute, 4294967295 is permanent; omitted or null: untouched."
)


class MuteKindSerializer(serializers.Serializer):
    remaining_seconds = serializers.IntegerField(min_value=0, max_value=PERMANENT)
    permanent = serializers.BooleanField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ExpectedKindSerializer(serializers.Serializer):
    remaining_seconds = serializers.IntegerField(min_value=0, max_value=PERMANENT)


class ExpectedSerializer(serializers.Serializer):
    """The state the caller saw (a GET's answer will do): a change is refused if it moved."""

    c2c = ExpectedKindSerializer()
    group = ExpectedKindSerializer()
    observed_at = serializers.DateTimeField()


class MuteChangeFields(serializers.Serializer):
    """What the account page's change form asks, as JSON."""

    c2c_seconds = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=PERMANENT, help_text=SECONDS_HELP
    )
    group_seconds = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=PERMANENT, help_text=SECONDS_HELP
    )
    reason = serializers.CharField(max_length=500, help_text="Kept in the audit log.")
    rule = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=32,
        help_text="The policy rule's code; needed to set a length once rules exist.",
    )
    notify = serializers.BooleanField(
        required=False, default=False, help_text="Send the account a notice after the change."
    )
    notice_language = serializers.ChoiceField(
        choices=NoticeTemplate.Language.choices, required=False, allow_blank=True
    )


class MuteChangeRequest(MuteChangeFields):
    expected = ExpectedSerializer(required=False, allow_null=True)


class MuteStateSerializer(serializers.Serializer):
    account = serializers.CharField()
    app = serializers.CharField()
    c2c = MuteKindSerializer()
    group = MuteKindSerializer()
    observed_at = serializers.DateTimeField()
    audit_id = serializers.IntegerField(allow_null=True)


class NoticeOutcomeSerializer(serializers.Serializer):
    sent = serializers.BooleanField()
    detail = serializers.CharField()


class MuteChangeAnswer(MuteStateSerializer):
    sent = serializers.BooleanField(help_text="False when every lift asked for was of no mute.")
    not_muted = serializers.ListField(child=serializers.CharField())
    before = MuteStateSerializer()
    notice = NoticeOutcomeSerializer(allow_null=True)


class ApprovalRequestAnswer(serializers.Serializer):
    request_id = serializers.IntegerField()
    status = serializers.CharField()
    detail = serializers.CharField()


def _user_id(value: str) -> None:
    try:
        validate_account(value)
    except InvalidAccount as exc:
        raise serializers.ValidationError(str(exc), code="invalid_account") from None


class AccountListField(serializers.ListField):
    child = serializers.CharField(max_length=64, trim_whitespace=False, validators=[_user_id])


class BulkJobRequest(MuteChangeFields):
    operation = serializers.ChoiceField(choices=BulkJob.Operation.choices)
    accounts = AccountListField(min_length=1, help_text="UserIDs, each once.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class BulkStatusSerializer(serializers.Serializer):
    state = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    ok = serializers.IntegerField()
    errors = serializers.IntegerField()
    not_sent = serializers.IntegerField()
    calls_per_second = serializers.FloatField()
    eta_seconds = serializers.IntegerField(allow_null=True)
    cancel_requested = serializers.BooleanField()


class BulkJobAnswer(BulkStatusSerializer):
    id = serializers.IntegerField()


class BulkResultSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    account = serializers.CharField()
    outcome = serializers.CharField()
    error_code = serializers.IntegerField(allow_null=True)
    error_info = serializers.CharField()
    c2c_observed = serializers.IntegerField(allow_null=True)
    group_observed = serializers.IntegerField(allow_null=True)


class AuditRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    operator = serializers.CharField()
    on_behalf_of = serializers.CharField(allow_null=True)
    action = serializers.CharField()
    account = serializers.CharField()
    app = serializers.CharField()
    c2c_requested = serializers.IntegerField(allow_null=True)
    group_requested = serializers.IntegerField(allow_null=True)
    c2c_observed = serializers.IntegerField(allow_null=True)
    group_observed = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    rule = serializers.CharField()
    outcome = serializers.CharField()
    error_code = serializers.IntegerField(allow_null=True)
    error_info = serializers.CharField()
    job_id = serializers.IntegerField(allow_null=True)
    correlation_id = serializers.UUIDField(allow_null=True)


class ReportRowSerializer(serializers.Serializer):
    app = serializers.CharField()
    account = serializers.CharField()
    c2c_state = serializers.CharField()
    c2c_expires_at = serializers.DateTimeField(allow_null=True)
    group_state = serializers.CharField()
    group_expires_at = serializers.DateTimeField(allow_null=True)
    last_change_at = serializers.DateTimeField(allow_null=True)
    last_operator = serializers.CharField()
    last_reason = serializers.CharField()
    rule = serializers.CharField()
    observed_at = serializers.DateTimeField()


def paged(name: str, row: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """A page of `row`s with the URLs of the pages on either side (null: none there)."""
    fields = {
        "results": row(many=True),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
    }
    return type(name, (serializers.Serializer,), fields)


BulkResultsPage = paged("BulkResultsPage", BulkResultSerializer)
AuditPage = paged("AuditPage", AuditRowSerializer)
ReportPage = paged("ReportPage", ReportRowSerializer)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with the extension members this API adds."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), required=False)
    error_code = serializers.IntegerField(required=False, allow_null=True)
    error_info = serializers.CharField(required=False)
