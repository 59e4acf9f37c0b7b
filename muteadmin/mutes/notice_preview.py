"""The account page's notice preview: the text the account would be sent for the change the
form holds, from the picked rule's template (else the default one) in the language picked.

Drawn with the page, and drawn again by the page's script (a POST of the change form to
NoticePreviewView) whenever the rule, a length, the reason or the language changes. Nothing is
sent or recorded: the text actually sent is rendered again after the change.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from muteadmin.core.clock import clock
from muteadmin.mutes.forms import MuteChangeForm
from muteadmin.mutes.permissions import mute_permissions
from muteadmin.notices.services import DEFAULT_LANGUAGE, LANGUAGES, NoticeUnavailable, notice_render
from muteadmin.rules.selectors import rules_active
from muteadmin.tencent.accounts import InvalidAccount, validate_account

# The fields of the change form the preview reads; the rest (seen_*, confirm) play no part.
PREVIEW_FIELDS = (
    "rule",
    "notice_language",
    "reason",
    "c2c_seconds",
    "c2c_custom",
    "c2c_custom_unit",
    "group_seconds",
    "group_custom",
    "group_custom_unit",
)


NO_LENGTH = "Choose a length: the notice says what is muted and for how long."


@dataclass(frozen=True)
class NoticePreview:
    """The notice's text as it would be sent now, or why none would be (`unavailable`)."""

    text: str = ""
    unavailable: str = ""
    language: str = ""
    shown: bool = False


def notice_preview(form: MuteChangeForm) -> NoticePreview:
    """The notice for the change `form` holds (posted, or as the page draws it), as if sent now.

    An unbound form is read as its initial values (a rule's suggestion included); `shown` is
    whether the notify box is ticked. With the box unticked nothing is worked out (the page is
    drawn on every visit): the script asks for the preview once the box is ticked.
    """
    shown = bool(form.data.get("notify") if form.is_bound else form["notify"].value())
    if not shown:
        return NoticePreview()
    checked = form
    if not form.is_bound:
        data = {name: form[name].value() for name in PREVIEW_FIELDS}
        checked = _form_like(form, {k: "" if v is None else str(v) for k, v in data.items()})
    checked.is_valid()
    cleaned = checked.cleaned_data
    language = cleaned.get("notice_language") or DEFAULT_LANGUAGE
    lengths = (cleaned.get("c2c_seconds"), cleaned.get("group_seconds"))
    if lengths == (None, None):
        return NoticePreview(unavailable=NO_LENGTH, shown=shown)
    try:
        text = notice_render(
            c2c_seconds=cleaned.get("c2c_seconds"),
            group_seconds=cleaned.get("group_seconds"),
            reason=cleaned.get("reason") or "",
            now=datetime.fromtimestamp(clock().time(), UTC),
            language=language,
            rule_code=cleaned.get("rule") or "",
        )
    except NoticeUnavailable as exc:
        return NoticePreview(unavailable=_preview_sentence(str(exc)), shown=shown)
    return NoticePreview(text=text, language=LANGUAGES(language).label, shown=shown)


def _preview_sentence(message: str) -> str:
    """NoticeUnavailable speaks of a notice not sent; before the change, say what would be."""
    return message.replace("No notice was sent:", "No notice would be sent:").replace(
        "the change muted nothing, it only lifted", "a lift mutes nothing"
    )


def _form_like(form: MuteChangeForm, data: dict[str, str]) -> MuteChangeForm:
    return MuteChangeForm(
        data=data,
        can_mute_permanently=form.can_mute_permanently,
        allowed=form.allowed,
        offer_requests=form.offer_requests,
        rules=form.rules,
    )


class NoticePreviewView(PermissionRequiredMixin, View):
    """POST the change form: the preview, as the account page draws it (its script asks)."""

    permission_required = "mutes.change_mute"

    def post(self, request: HttpRequest, account: str) -> HttpResponse:
        try:
            validate_account(account)
        except InvalidAccount:
            return HttpResponse(
                "That is not a valid UserID.", status=404, content_type="text/plain"
            )
        allowed = mute_permissions(request.user)
        form = MuteChangeForm(
            # Asked for only while the box is ticked: drawn as a ticked box's preview.
            data={name: request.POST.get(name, "") for name in PREVIEW_FIELDS} | {"notify": "on"},
            can_mute_permanently=allowed.mute_permanently,
            allowed=allowed,
            offer_requests=True,
            rules=rules_active(),
        )
        return render(request, "mutes/notice_preview.html", {"preview": notice_preview(form)})
