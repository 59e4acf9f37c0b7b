"""Focus on what a form refused, without a script.

Every field sent back with an error carries `autofocus`; the browser focuses the first of them
when the page loads, so a keyboard or screen reader user lands on it and hears its error (the
field's aria-describedby). The messages region comes earlier in the page, so a message from the
server, when there is one, is focused instead.
"""

from typing import Any

from django.forms import BoundField, Widget
from django.forms.renderers import DjangoTemplates


class RefusedFieldFocus(BoundField):
    """A bound field that asks for focus while it holds an error."""

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Widget | None = None) -> dict:
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors and not (widget or self.field.widget).is_hidden:
            attrs["autofocus"] = True
        return attrs


class FocusOnErrorRenderer(DjangoTemplates):
    """Django's form renderer, with every form's fields asking for focus when refused."""

    bound_field_class = RefusedFieldFocus
