"""The audit filter form's widgets drawn as Django's own widget templates draw them.

The audit page draws nine widgets on every request, and through the template engine they
cost as much as the rest of the page; anything out of the ordinary still goes to the templates.
"""

import html

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest


class _NotPlain(Exception):
    """A widget holds a value the fast path does not handle: let the templates render it."""


def _plain(value: object) -> str:
    # Only plain strings and numbers: a safe or lazy string is left to the templates, which
    # treat those differently.
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


_INPUT_TEMPLATES = frozenset(
    {
        "django/forms/widgets/input.html",
        "django/forms/widgets/text.html",
        "django/forms/widgets/checkbox_option.html",
    }
)
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


class FilterFormRenderer(DjangoTemplates):
    """Draws the filter form's text boxes, checkboxes and menu as Django's templates would.

    The page draws nine widgets on every request, and through the template engine they cost
    as much as the rest of the page; anything out of the ordinary still goes to the templates.
    """

    def render(self, template_name: str, context: dict, request: HttpRequest | None = None):
        widget = context.get("widget") or {}
        try:
            if template_name in _INPUT_TEMPLATES and not widget.get("wrap_label"):
                return _input_html(widget)
            if template_name == _SELECT_TEMPLATE:
                return _select_html(widget)
        except _NotPlain:
            pass
        return super().render(template_name, context, request=request)


FILTER_FORM_RENDERER = FilterFormRenderer()
