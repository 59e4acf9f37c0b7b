"""Forms for looking up an account and changing its mutes; validation only, no calls."""

from collections.abc import Sequence
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.core.formfocus import RefusedFieldFocus
from muteadmin.core.widgets import PLAIN_WIDGET_RENDERER
from muteadmin.mutes.lengths import (
    CUSTOM,
    KINDS,
    PRESETS,
    UNIT_LABELS,
    UNIT_SECONDS,
    length_initial,
)
from muteadmin.mutes.permissions import MutePermissions
from muteadmin.mutes.seen import SeenMutes
from muteadmin.notices.models import NoticeTemplate
from muteadmin.policies.selectors import limit_in_words
from muteadmin.rules.fields import RULE_MESSAGES, rule_choice_field
from muteadmin.rules.models import Rule
from muteadmin.rules.selectors import LadderStep
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.nospeaking import PERMANENT, MuteStatus

# The languages notices are written in; English unless the moderator picks another.
NOTICE_LANGUAGES = NoticeTemplate.Language.choices

SEEN_FIELDS = ("seen_c2c", "seen_group", "seen_at")
# A hidden field the pages send beside the notify box: a browser leaves out an unticked box,
# so without it a page's "no notice" could not be told from a script that never said.
NOTIFY_OFFERED = "notify_offered"


def seen_values(status: MuteStatus) -> dict[str, str]:
    """The seen_* fields for a page showing `status`: its seconds, and when, to the second."""
    observed = status.observed_at.astimezone(UTC).replace(microsecond=0)
    return {
        "seen_c2c": str(status.c2c_seconds),
        "seen_group": str(status.group_seconds),
        "seen_at": observed.isoformat().replace("+00:00", "Z"),
    }


def _seen_seconds(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw) > PERMANENT:
        raise ValueError(raw)
    return int(raw)


def _utc_moment(moment: datetime) -> bool:
    """Whether an aware moment is also one in UTC (0001-01-01 00:00+14:00 is not)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


class AccountField(forms.CharField):
    """A Tencent UserID: 1 to 32 bytes of printable ASCII, kept exactly as typed.

    With `refuse_padding`, an ID that starts or ends with whitespace is refused, naming the ID
    without it (the error's `suggestion` parameter): Tencent would take `  alice_01  ` for an
    account of its own that looks just like `alice_01` on a page, and such an ID is almost
    always a paste that caught the spaces around it.
    """

    padded_message = gettext_lazy(
        "That UserID starts or ends with a space; did you mean %(suggestion)s?"
    )
    blank_message = gettext_lazy(
        "That UserID is only spaces; type the UserID of the account to look up."
    )

    def __init__(self, *, refuse_padding: bool = False, **kwargs) -> None:
        kwargs.setdefault("strip", False)
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.refuse_padding = refuse_padding

    def validate(self, value: str) -> None:
        super().validate(value)
        trimmed = value.strip()
        if self.refuse_padding and trimmed != value:
            self._refuse_padded(trimmed)
        try:
            validate_account(value)
        except InvalidAccount as exc:
            raise ValidationError(str(exc), code="invalid_account") from None

    def _refuse_padded(self, trimmed: str) -> None:
        if not trimmed:
            raise ValidationError(self.blank_message, code="blank")
        try:
            validate_account(trimmed)
        except InvalidAccount:
            return  # the ID is wrong in more ways than the spaces: say what else
        raise ValidationError(self.padded_message, code="padded", params={"suggestion": trimmed})


class LookupForm(forms.Form):
    default_renderer = PLAIN_WIDGET_RENDERER
    # Drawn by the fast renderer, so the focus on a refused field is asked for here.
    bound_field_class = RefusedFieldFocus
    account = AccountField(
        refuse_padding=True,
        label=gettext_lazy("Account (UserID)"),
        error_messages={"required": gettext_lazy("Type the UserID of the account to look up.")},
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    @property
    def suggestion(self) -> str:
        """The ID without the whitespace around it, when that is why the form refused it."""
        for error in self.errors.as_data().get("account", ()):
            if error.code == "padded":
                return error.params["suggestion"]
        return ""


class MuteChangeForm(forms.Form):
    """New C2C and group mute lengths in seconds; a blank field leaves that mute untouched.

    Its cleaned data also holds `expected`, the state the page showed (SeenMutes, None for a post
    without seen_c2c, seen_group and seen_at: a script), and `confirm`, whether the moderator has
    confirmed the change on its confirmation step.
    """

    # Drawn on every visit to an account's page: its seven widgets through the template engine
    # cost more than the rest of the page's markup (bench/README.md, the account page).
    default_renderer = PLAIN_WIDGET_RENDERER
    # Drawn by the fast renderer, so the focus on a refused field is asked for here.
    bound_field_class = RefusedFieldFocus

    error_messages = {
        "not_integer": gettext_lazy(
            "Enter a whole number of seconds from 0 to 4294967295, or pick a preset."
        ),
        "out_of_range": gettext_lazy("Enter a number of seconds from 0 to 4294967295."),
        "custom_missing": gettext_lazy("Enter how long the custom mute should run."),
        "custom_too_long": gettext_lazy(
            "That custom length is longer than Tencent allows; choose Permanently instead."
        ),
        "permanent_denied": gettext_lazy(
            "You may not mute accounts permanently; ask a Lead to do it."
        ),
        "over_limit": gettext_lazy(
            "That is longer than your limit (%(limit)s); ask a Lead to do it."
        ),
        "nothing_chosen": gettext_lazy("Choose a new C2C mute, a new group mute, or both."),
        "seen_damaged": gettext_lazy(
            "This form's record of the mutes you saw is incomplete or damaged; load the account "
            "again and make your change from there."
        ),
    }

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        error_messages={
            "required": gettext_lazy("Give a reason: it is kept in the audit log."),
            "max_length": gettext_lazy(
                "Keep the reason to 500 characters or fewer (it has %(show_value)d)."
            ),
        },
    )

    # Tell the account of the change afterwards (a one-to-one message from the app admin).
    notify = forms.BooleanField(
        required=False, label=gettext_lazy("Send the account a notice after the change")
    )
    notice_language = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Notice language"),
        choices=NOTICE_LANGUAGES,
        initial=NOTICE_LANGUAGES[0][0],
    )
    # "Review when this mute ends": a reminder on the home page when the mute set runs out.
    review = forms.ChoiceField(
        required=False,
        label="When this mute ends",
        choices=[
            ("", "No reminder"),
            ("me", "Remind me to review it"),
            ("leads", "Remind the Leads"),
        ],
    )
    notify_offered = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        can_mute_permanently: bool = False,
        allowed: MutePermissions | None = None,
        offer_requests: bool = False,
        rules: Sequence[Rule] = (),
        **kwargs,
    ) -> None:
        """`allowed`: the user's limits, which decide what is offered (else only Permanently
        is, by `can_mute_permanently`). With `offer_requests` lengths above them are offered
        too, marked as needing approval, and left for the page to turn into a request.
        `rules`: the active rules, one of which a change that sets a length must name."""
        super().__init__(*args, **kwargs)
        self.rules = list(rules)
        # The ladder's suggestion for the rule picked (suggest()), as a sentence.
        self.ladder_sentence = ""
        self.can_mute_permanently = can_mute_permanently
        self.allowed = allowed
        self.offer_requests = offer_requests and allowed is not None
        # Set by the page when the change asked for is above the user's limit.
        self.approval_notice = ""
        # The same three fields for each kind of mute, placed before the reason.
        reason = self.fields.pop("reason")
        for kind in KINDS:
            self.fields[f"{kind}_seconds"] = forms.CharField(
                label=_("Set to"), required=False, widget=forms.Select(choices=self._presets(kind))
            )
            self.fields[f"{kind}_custom"] = forms.IntegerField(
                label=_("Custom length"), required=False, min_value=1
            )
            self.fields[f"{kind}_custom_unit"] = forms.ChoiceField(
                label=_("Unit"),
                required=False,
                initial="hours",
                choices=list(UNIT_LABELS.items()),
            )
        self.fields["rule"] = rule_choice_field(self.rules)
        self.fields["reason"] = reason

    def clean_rule(self) -> str | None:
        return self.cleaned_data.get("rule") or None

    @property
    def notify_rules(self) -> str:
        """The codes of the rules that notify by default, space-separated, for the script."""
        return " ".join(rule.code for rule in self.rules if rule.notify_by_default)

    def picked_rule(self) -> Rule | None:
        """The rule picked (after cleaning), None for none or one not offered."""
        code = self.cleaned_data.get("rule")
        return next((rule for rule in self.rules if rule.code == code), None)

    def _notify_clean(self, cleaned: dict) -> None:
        """A post that says nothing of notify (a script) takes the picked rule's default.

        The pages always send NOTIFY_OFFERED, so their unticked box stays "no notice".
        """
        if "notify" in self.data or NOTIFY_OFFERED in self.data:
            return
        rule = self.picked_rule()
        cleaned["notify"] = rule is not None and rule.notify_by_default

    def suggest(self, step: LadderStep) -> None:
        """Pre-select `step`'s rule and lengths, and say why (a form not yet posted only)."""
        self.initial["rule"] = step.rule.code
        self.initial["notify"] = step.rule.notify_by_default
        above = False
        for kind, seconds in step.seconds.items():
            self.initial |= length_initial(kind, seconds)
            above = above or not self._within(kind, seconds)
        self.ladder_sentence = step.sentence
        if above:
            self.ladder_sentence = (
                _("%(suggestion)s, above your limit: Request approval sends it to a Lead")
                if self.offer_requests
                else _("%(suggestion)s, above your limit: ask a Lead to make this change")
            ) % {"suggestion": step.sentence}

    def _presets(self, kind: str) -> list[tuple[str, str]]:
        """The presets offered for `kind`: those within the limit, or all, marked, with requests."""
        presets = []
        for value, label in PRESETS:
            if not value.isdigit() or self._within(kind, int(value)):
                presets.append((value, label))
            elif self.offer_requests:
                presets.append((value, _("%(length)s (needs approval)") % {"length": label}))
        return presets

    def _within(self, kind: str, seconds: int) -> bool:
        if self.allowed is None:
            return seconds != PERMANENT or self.can_mute_permanently
        return self.allowed.permits(kind, seconds)

    @property
    def limit_sentence(self) -> str:
        """What the form says of the user's limit ("" when it knows none)."""
        return self.allowed.limit_sentence() if self.allowed is not None else ""

    def approval_required(self, notice: str) -> None:
        """The change is above the user's limit: offer "Request approval", saying why."""
        self.approval_notice = notice

    def clean(self) -> dict:
        cleaned = super().clean()
        for kind in KINDS:
            cleaned[f"{kind}_seconds"] = self._seconds(kind)
        # SEEN_FIELDS and `confirm` are hidden inputs the account page writes itself (the page
        # draws them from the state it shows, not from what was posted), so they are read here.
        cleaned["expected"] = self._seen()
        cleaned["confirm"] = bool(self.data.get("confirm"))
        self._notify_clean(cleaned)
        chosen = [cleaned[f"{kind}_seconds"] for kind in KINDS]
        if not self.errors and chosen == [None, None]:
            raise ValidationError(self.error_messages["nothing_chosen"], code="nothing_chosen")
        if self.rules and cleaned.get("rule") is None and "rule" not in self.errors and any(chosen):
            # Setting a length needs a rule once there are rules; a lift goes without one.
            self.add_error("rule", ValidationError(RULE_MESSAGES["required"], code="required"))
        return cleaned

    def _seen(self) -> SeenMutes | None:
        """What the page showed, or None for a post without any of the seen_* fields."""
        raw = [str(self.data.get(name) or "").strip() for name in SEEN_FIELDS]
        if raw == ["", "", ""]:
            return None
        c2c, group, moment = raw
        try:
            seen = SeenMutes(
                c2c_seconds=_seen_seconds(c2c),
                group_seconds=_seen_seconds(group),
                seen_at=datetime.fromisoformat(moment),
            )
        except ValueError:
            seen = None
        if seen is None or seen.seen_at.tzinfo is None or not _utc_moment(seen.seen_at):
            self.add_error(
                None, ValidationError(self.error_messages["seen_damaged"], code="seen_damaged")
            )
            return None
        return seen

    def _seconds(self, kind: str) -> int | None:
        """The seconds chosen for one kind of mute, or None when it is to be left alone."""
        field = f"{kind}_seconds"
        raw = (self.cleaned_data.get(field) or "").strip()
        if raw == "":
            return None
        if raw == CUSTOM:
            return self._custom_seconds(kind)
        if not raw.isascii() or not raw.isdigit():
            self.add_error(
                field, ValidationError(self.error_messages["not_integer"], code="not_integer")
            )
            return None
        # More digits than PERMANENT is out of range, and int() refuses thousands of them.
        seconds = int(raw) if len(raw.lstrip("0")) <= len(str(PERMANENT)) else PERMANENT + 1
        if seconds > PERMANENT:
            self.add_error(
                field, ValidationError(self.error_messages["out_of_range"], code="out_of_range")
            )
            return None
        return self._limited(kind, field, seconds)

    def _limited(self, kind: str, field: str, seconds: int) -> int | None:
        """`seconds`, or None with an error when above the limit and no request is offered."""
        if self.offer_requests or self._within(kind, seconds):
            return seconds
        if seconds == PERMANENT:
            code, message = "permanent_denied", self.error_messages["permanent_denied"]
        else:
            code = "over_limit"
            limit = limit_in_words(self.allowed.limits.longest(kind))
            message = self.error_messages["over_limit"] % {"limit": limit}
        self.add_error(field, ValidationError(message, code=code))
        return None

    def _custom_seconds(self, kind: str) -> int | None:
        amount = self.cleaned_data.get(f"{kind}_custom")
        if amount is None:
            if f"{kind}_custom" not in self.errors:
                self.add_error(
                    f"{kind}_custom",
                    ValidationError(self.error_messages["custom_missing"], code="custom_missing"),
                )
            return None
        unit = self.cleaned_data.get(f"{kind}_custom_unit") or "hours"
        seconds = amount * UNIT_SECONDS[unit]
        if seconds >= PERMANENT:
            self.add_error(
                f"{kind}_custom",
                ValidationError(self.error_messages["custom_too_long"], code="custom_too_long"),
            )
            return None
        return self._limited(kind, f"{kind}_custom", seconds)
