"""Page fragments drawn by Jinja2 escape every value exactly as Django's templates do."""

from django.template import Context, Template, engines
from django.utils.safestring import mark_safe

VALUES = ["<b>\"quoted\" & 'single'</b>", "plain", 42, None, "é—"]


def test_every_value_is_escaped_as_django_escapes_it():
    fragment = engines["fragments"].from_string("{{ value }}")
    django = Template("{{ value }}")
    for value in VALUES:
        assert fragment.render({"value": value}) == django.render(Context({"value": value}))


def test_markup_already_made_safe_is_written_as_it_is():
    fragment = engines["fragments"].from_string("{{ value }}")
    assert fragment.render({"value": mark_safe("<b>x</b>")}) == "<b>x</b>"


def test_a_value_cannot_open_an_attribute_or_a_tag():
    fragment = engines["fragments"].from_string('<a title="{{ value }}">{{ value }}</a>')
    drawn = fragment.render({"value": '"><script>alert(1)</script>'})
    assert "<script>" not in drawn
    assert drawn.count('"') == 2
