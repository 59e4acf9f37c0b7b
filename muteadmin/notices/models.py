"""The texts of the notices sent to an account after a change, per rule and language."""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

PLACEHOLDERS = ("kinds", "duration", "ends_at", "reason")


class NoticeTemplate(models.Model):
    """A notice's text for a rule (blank: the default, used when no rule is picked) and language.

    The text may use {kinds}, {duration}, {ends_at} and {reason}; {ends_at} is written in
    `time_zone`.
    """

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        SIMPLIFIED_CHINESE = "zh-hans", _("Simplified Chinese")

    rule_code = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("The rule this text is for; blank for the default."),
    )
    language = models.CharField(max_length=8, choices=Language)
    text = models.TextField(
        help_text=_(
            "Placeholders: {kinds}, {duration}, {ends_at} (in the time zone below), {reason}."
        ),
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text=_("The zone {ends_at} is written in, e.g. Asia/Shanghai."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rule_code", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_code", "language"], name="notice_template_one_per_rule_and_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_code or _('default')} ({self.get_language_display()})"

    def clean(self) -> None:
        errors = {}
        if self.time_zone not in available_timezones():
            errors["time_zone"] = _("Enter a time zone name such as Asia/Shanghai.")
        try:
            self.text.format(**dict.fromkeys(PLACEHOLDERS, ""))
        except (KeyError, IndexError, ValueError):
            errors["text"] = _(
                "Use only the placeholders {kinds}, {duration}, {ends_at} and {reason}; "
                "write a literal brace twice ({{ or }})."
            )
        if errors:
            raise ValidationError(errors)
