"""core/translations: the text Django's gettext and pgettext give, in the active language."""

from django.utils import translation

from muteadmin.core import translations


def test_each_language_gets_its_own_text():
    with translation.override("zh-hans"):
        chinese = translations.gettext("permanent")
        chinese_unit = translations.pgettext("duration unit", "min")
        assert chinese == translation.gettext("permanent")
        assert chinese_unit == translation.pgettext("duration unit", "min")
    with translation.override("en"):
        assert translations.gettext("permanent") == "permanent"
        assert translations.pgettext("duration unit", "min") == "min"
    assert chinese != "permanent"
    assert chinese_unit != "min"


def test_a_message_without_a_translation_stays_as_written():
    with translation.override("zh-hans"):
        assert translations.gettext("no such message here") == "no such message here"
