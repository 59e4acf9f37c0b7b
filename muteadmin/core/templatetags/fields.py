"""{% field form.name %}: one form field with its label, hint and errors, as every form draws it.

Written in Python rather than as an included template: the account page draws a dozen fields on
every visit, and an include costs the engine more than the field itself.
"""

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def field(bound: BoundField) -> SafeString:
    """The field's label, widget, hint (described by the widget) and errors, in a div.field."""
    errors = bound.errors
    parts = [
        format_html(
            '<div class="field{}">\n  <label for="{}">{}</label>\n  {}\n',
            " field-error" if errors else "",
            bound.id_for_label,
            bound.label,
            bound,
        )
    ]
    if bound.help_text:
        parts.append(
            format_html(
                '  <p class="hint" id="{}_helptext">{}</p>\n', bound.auto_id, bound.help_text
            )
        )
    if errors:
        messages = format_html_join("", '<p class="error">{}</p>', ((error,) for error in errors))
        parts.append(format_html('  <div id="{}_error">{}</div>\n', bound.auto_id, messages))
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped by format_html
