"""The destination form: what a Lead types, checked against each service's address format.

The address and the secret are write-only: the form never shows them back; left blank when
changing a destination, the stored ones are kept.
"""

from urllib.parse import parse_qs, urlsplit

from django import forms
from django.utils.translation import gettext_lazy

from muteadmin.robots.models import EVENT_CHOICES, Destination
from muteadmin.robots.services import DestinationSettings

# Where each service's robot addresses live (docs/chat-robots.md): host, path (or its start).
SERVICE_ADDRESSES = {
    "wecom": (("qyapi.weixin.qq.com",), "/cgi-bin/webhook/send", "key"),
    "dingtalk": (("oapi.dingtalk.com",), "/robot/send", "access_token"),
    "feishu": (("open.feishu.cn", "open.larksuite.com"), "/open-apis/bot/v2/hook/", None),
    "slack": (("hooks.slack.com",), "/services/", None),
}
# Services whose robots work without a signing secret (keyword or IP rules instead).
SECRET_OPTIONAL = {"dingtalk", "feishu"}
# Services that take no secret of ours: their address is the secret.
NO_SECRET = {"wecom", "slack"}
MAX_URL = 2000
MAX_SECRET = 200


def _printable(value: str) -> bool:
    return value.isprintable() and not any(char.isspace() for char in value)


class DestinationForm(forms.Form):
    name = forms.CharField(max_length=64, strip=True, label=gettext_lazy("Name"))
    kind = forms.ChoiceField(choices=Destination.Kind.choices, label=gettext_lazy("Service"))
    url = forms.CharField(
        max_length=MAX_URL,
        required=False,
        label=gettext_lazy("Address (webhook URL)"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    secret = forms.CharField(
        max_length=MAX_SECRET,
        required=False,
        label=gettext_lazy("Signing secret"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    remove_secret = forms.BooleanField(
        required=False, label=gettext_lazy("Remove the signing secret")
    )
    language = forms.ChoiceField(
        choices=Destination.Language.choices, label=gettext_lazy("Language")
    )
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        required=False,
        label=gettext_lazy("Events"),
        widget=forms.CheckboxSelectMultiple,
    )

    error_messages = {
        "url_needed": gettext_lazy("Give the destination's address (its webhook URL)."),
        "url_shape": gettext_lazy(
            "Enter the full address, starting with https:// (or http:// for a webhook)."
        ),
        "url_service": gettext_lazy(
            "A %(service)s address starts with %(example)s; copy it from the robot's settings."
        ),
        "secret_needed": gettext_lazy("A webhook is signed: give it a signing secret."),
        "secret_shape": gettext_lazy("A signing secret is printable characters without spaces."),
        "secret_unused": gettext_lazy(
            "%(service)s takes no signing secret: its address is the secret."
        ),
        "name_shape": gettext_lazy("A name is printable characters."),
    }

    def __init__(self, *args, instance: Destination | None = None, **kwargs) -> None:
        self.instance = instance
        if instance is not None and "data" not in kwargs and not args:
            kwargs["initial"] = {
                "name": instance.name,
                "kind": instance.kind,
                "language": instance.language,
                "events": instance.events,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["url"].help_text = gettext_lazy("Leave blank to keep the address set now.")
            self.fields["secret"].help_text = gettext_lazy(
                "Leave blank to keep the secret set now."
            )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not name.isprintable():
            raise forms.ValidationError(self.error_messages["name_shape"], code="name_shape")
        return name

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if secret and not _printable(secret):
            raise forms.ValidationError(self.error_messages["secret_shape"], code="secret_shape")
        return secret

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind is None:
            return data
        url = data.get("url") or (self.instance.url if self.instance else "")
        if not url:
            self.add_error("url", forms.ValidationError(self.error_messages["url_needed"]))
        else:
            self._url_checked(kind, url)
        self._secret_checked(kind, data)
        return data

    def _url_checked(self, kind: str, url: str) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises ValueError for a port out of range)
        except ValueError:
            parts = None
        allowed = ("https",) if kind in SERVICE_ADDRESSES else ("https", "http")
        if (
            parts is None
            or not _printable(url)
            or parts.scheme not in allowed
            or not parts.hostname
            or parts.username is not None
        ):
            self.add_error("url", forms.ValidationError(self.error_messages["url_shape"]))
            return
        if kind not in SERVICE_ADDRESSES:
            return
        hosts, path, parameter = SERVICE_ADDRESSES[kind]
        fits = parts.hostname in hosts and (
            parts.path == path
            if parameter
            else parts.path.startswith(path) and len(parts.path) > len(path)
        )
        if parameter and not parse_qs(parts.query).get(parameter, [""])[0]:
            fits = False
        if not fits:
            example = f"https://{hosts[0]}{path}" + (f"?{parameter}=" if parameter else "")
            message = self.error_messages["url_service"] % {
                "service": Destination.Kind(kind).label,
                "example": example,
            }
            self.add_error("url", forms.ValidationError(message))

    def _secret_checked(self, kind: str, data: dict) -> None:
        secret = data.get("secret", "")
        kept = bool(self.instance and self.instance.secret and not data.get("remove_secret"))
        if kind in NO_SECRET and secret:
            message = self.error_messages["secret_unused"] % {
                "service": Destination.Kind(kind).label
            }
            self.add_error("secret", forms.ValidationError(message))
        elif kind == "webhook" and not (secret or kept):
            self.add_error("secret", forms.ValidationError(self.error_messages["secret_needed"]))

    def settings(self) -> DestinationSettings:
        """What was typed, for the services; a blank address or secret keeps the stored one."""
        data = self.cleaned_data
        secret: str | None = data["secret"] or None
        if data["remove_secret"] or data["kind"] in NO_SECRET:
            secret = secret or ""
        return DestinationSettings(
            name=data["name"],
            kind=data["kind"],
            language=data["language"],
            events=tuple(data["events"]),
            url=data["url"] or None,
            secret=secret,
        )
