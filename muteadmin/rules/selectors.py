"""Reading the rules, and where an account stands on a rule's ladder."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from muteadmin.audit.models import AuditEntry
from muteadmin.core.clock import clock
from muteadmin.core.sql import quoted_names
from muteadmin.rules.ladders import length_words
from muteadmin.rules.models import KINDS, Rule
from muteadmin.upstream.registry import DEFAULT_APP

SHORT_NAMES = {"c2c": gettext_lazy("C2C"), "group": gettext_lazy("group")}
_ORDINALS = {
    "st": pgettext_lazy("ordinal", "%(number)dst"),
    "nd": pgettext_lazy("ordinal", "%(number)dnd"),
    "rd": pgettext_lazy("ordinal", "%(number)drd"),
    "th": pgettext_lazy("ordinal", "%(number)dth"),
}


def rules_active() -> list[Rule]:
    """The rules a change may be made under (not retired), by code.

    Written out: every page with the change form asks, and the ORM's query costs more to build
    than to run.
    """
    _connection, table, column = quoted_names(Rule)
    # Only quoted names from the model are formatted in.
    sql = (
        f"SELECT * FROM {table} WHERE {column('retired_at')} IS NULL"  # noqa: S608
        f" ORDER BY {column('code')}"
    )
    return list(Rule.objects.raw(sql))


def rules_all() -> list[Rule]:
    """Every rule, retired ones included, by code."""
    return list(Rule.objects.order_by("code"))


def rule_in_use(*, code: str) -> bool:
    """Whether any audit row other than the rule's own changes names the rule."""
    return (
        AuditEntry.objects.filter(rule=code).exclude(action=AuditEntry.Action.RULE_CHANGE).exists()
    )


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th... 11th, 12th, 13th, 21st."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return _ORDINALS[suffix] % {"number": number}


@dataclass(frozen=True)
class LadderStep:
    """Where an account stands on a rule's ladder, and what the rule suggests for it next.

    `offences` counts earlier changes under the rule that muted the account within the window;
    `seconds` holds the suggested length per kind (kinds without a ladder are left out).
    """

    rule: Rule
    offences: int
    seconds: dict[str, int] = field(default_factory=dict)

    @property
    def sentence(self) -> str:
        """ "3rd time under spam in 90 days: 7 days suggested"."""
        lead = _("%(ordinal)s time under %(rule)s in %(days)s days") % {
            "ordinal": ordinal(self.offences + 1),
            "rule": self.rule.code,
            "days": self.rule.window_days,
        }
        if not self.seconds:
            return _("%(lead)s: the rule suggests no length.") % {"lead": lead}
        words = {kind: length_words(seconds) for kind, seconds in self.seconds.items()}
        if len(set(words.values())) == 1 and len(words) == len(KINDS):
            suggested = next(iter(words.values()))
        else:
            suggested = _(", ").join(f"{SHORT_NAMES[kind]} {text}" for kind, text in words.items())
        return _("%(lead)s: %(length)s suggested") % {"lead": lead, "length": suggested}


def rule_offences(*, rule: Rule, account: str, app: str, now: datetime | None = None) -> int:
    """Changes under `rule` that muted `account` in `app` within the rule's window before `now`.

    A change counts once, whichever kinds it muted, when it went through (outcome ok) and set a
    length (not a lift). The window is open at its far end: a change exactly `window_days` ago
    no longer counts. One query, on the account's index.
    """
    now = now or datetime.fromtimestamp(clock().time(), UTC)
    since = now - timedelta(days=rule.window_days)
    in_app = Q(app=app) | Q(app__isnull=True) if app == DEFAULT_APP else Q(app=app)
    return (
        AuditEntry.objects.filter(
            in_app,
            account=account,
            rule=rule.code,
            action=AuditEntry.Action.CHANGE,
            outcome=AuditEntry.Outcome.OK,
            created_at__gt=since,
            created_at__lte=now,
        )
        .filter(Q(c2c_requested__gt=0) | Q(group_requested__gt=0))
        .count()
    )


def rule_ladder_step(
    *, rule: Rule, account: str, app: str, now: datetime | None = None
) -> LadderStep:
    """The next step of `rule`'s ladder for `account`: past its last step, the last step again."""
    offences = rule_offences(rule=rule, account=account, app=app, now=now)
    seconds = {}
    for kind in KINDS:
        steps = rule.ladder(kind)
        if steps:
            seconds[kind] = steps[min(offences, len(steps) - 1)]
    return LadderStep(rule=rule, offences=offences, seconds=seconds)
