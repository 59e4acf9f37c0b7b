"""Form widgets drawn as Django's own widget templates draw them, without the template engine.

Pages that draw a form on every request (the audit filter, the account page's change form) spend
as much on their widgets through the engine as on the rest of the page. Text boxes, number
boxes, checkboxes, menus and text areas holding plain strings and numbers are written here
exactly as the templates write them; anything out of the ordinary still goes to the templates.
"""

import html

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.utils.functional import Promise


class _NotPlain(Exception):
    """A widget holds a value the fast path does not handle: let the templates render it."""


def _plain(value: object) -> str:
    # Only plain strings and numbers: a safe string is left to the templates, which treat it
    # differently. A lazy translation is the plain string it stands for.
    if isinstance(value, Promise):
        value = str(value)
    if type(value) is str:
        return html.escape(value)
    if type(value) is int:
        return str(value)
    raise _NotPlain


def _attrs_html(attrs: dict) -> str:
    # django/forms/widgets/attrs.html
    return "".join(
        f" {_plain(name)}" if value is True else f' {_plain(name)}="{_plain(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input_html(widget: dict) -> str:
    # django/forms/widgets/input.html
    value = "" if widget["value"] is None else f' value="{_plain(widget["value"])}"'
    return (
        f'<input type="{_plain(widget["type"])}" name="{_plain(widget["name"])}"{value}'
        f"{_attrs_html(widget['attrs'])}>"
    )


def _select_html(widget: dict) -> str:
    # django/forms/widgets/select.html and select_option.html, with their line breaks.
    options = []
    for group_name, choices, _ in widget["optgroups"]:
        if group_name:
            raise _NotPlain
        for option in choices:
            if option["template_name"] != _OPTION_TEMPLATE:
                raise _NotPlain
            options.append(
                f'\n  <option value="{_plain(option["value"])}"{_attrs_html(option["attrs"])}>'
                f"{_plain(option['label'])}</option>\n"
            )
    attrs = _attrs_html(widget["attrs"])
    return f'<select name="{_plain(widget["name"])}"{attrs}>{"".join(options)}\n</select>'


def _textarea_html(widget: dict) -> str:
    # django/forms/widgets/textarea.html
    value = _plain(widget["value"]) if widget["value"] else ""
    attrs = _attrs_html(widget["attrs"])
    return f'<textarea name="{_plain(widget["name"])}"{attrs}>\n{value}</textarea>'


_INPUT_TEMPLATES = frozenset(
    {
        "django/forms/widgets/input.html",
        "django/forms/widgets/text.html",
        "django/forms/widgets/number.html",
        "django/forms/widgets/datetime.html",
        "django/forms/widgets/hidden.html",
        "django/forms/widgets/checkbox.html",
        "django/forms/widgets/checkbox_option.html",
    }
)
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
_TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"


class PlainWidgetRenderer(DjangoTemplates):
    """Draws plain widgets as Django's templates would, and the rest through the templates."""

    def render(self, template_name: str, context: dict, request: HttpRequest | None = None):
        widget = context.get("widget") or {}
        try:
            if template_name in _INPUT_TEMPLATES and not widget.get("wrap_label"):
                return _input_html(widget)
            if template_name == _SELECT_TEMPLATE:
                return _select_html(widget)
            if template_name == _TEXTAREA_TEMPLATE:
                return _textarea_html(widget)
        except _NotPlain:
            pass
        return super().render(template_name, context, request=request)


PLAIN_WIDGET_RENDERER = PlainWidgetRenderer()
