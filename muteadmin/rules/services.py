"""Creating, changing and retiring policy rules: Leads only, each change an audit row."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.core.clock import clock
from muteadmin.rules.models import KINDS, Rule
from muteadmin.rules.selectors import rule_in_use
from muteadmin.tencent.nospeaking import PERMANENT

CHANGE_PERMISSION = "rules.change_rule"
# What a rule holds besides its code; each is compared, and audited, when it changes.
RULE_FIELDS = (
    "title_en",
    "title_zh_hans",
    "description_en",
    "description_zh_hans",
    "ladders",
    "window_days",
    "notify_by_default",
)


class RuleInvalid(ValueError):
    """What was asked of a rule cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class RuleText:
    """Everything about a rule a Lead types, its code aside."""

    title_en: str
    title_zh_hans: str
    description_en: str = ""
    description_zh_hans: str = ""
    ladders: Mapping[str, list[int]] = field(default_factory=dict)
    window_days: int = 90
    notify_by_default: bool = False

    def values(self) -> dict[str, Any]:
        ladders = {kind: list(steps) for kind, steps in self.ladders.items() if steps}
        return {name: getattr(self, name) for name in RULE_FIELDS} | {"ladders": ladders}


def _checked(operator: AbstractBaseUser, text: RuleText) -> None:
    if not operator.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied("Only Leads may change the rules.")
    if not text.title_en.strip() or not text.title_zh_hans.strip():
        raise RuleInvalid(_("Give the rule a title in English and in Simplified Chinese."))
    if text.window_days < 1:
        raise RuleInvalid(_("The look-back window is at least 1 day."))
    for kind, steps in text.ladders.items():
        if kind not in KINDS:
            raise RuleInvalid(_("There is no kind of mute called %(kind)s.") % {"kind": kind})
        if any(not 0 < seconds <= PERMANENT for seconds in steps):
            raise RuleInvalid(_("Each step of a ladder is a length from 1 second to permanent."))


def rule_create(
    *, operator: AbstractBaseUser, code: str, text: RuleText, client_ip: str | None = None
) -> Rule:
    """A new rule called `code`, audited; RuleInvalid if the code is taken (retired rules too)."""
    _checked(operator, text)
    try:
        with transaction.atomic():
            rule = Rule.objects.create(code=code, **text.values())
            _audit(operator, rule, "created", before=None, client_ip=client_ip)
    except IntegrityError:
        raise RuleInvalid(
            _("There is already a rule called %(code)s, perhaps retired; choose another code.")
            % {"code": code}
        ) from None
    return rule


def rule_update(
    *, operator: AbstractBaseUser, rule: Rule, text: RuleText, client_ip: str | None = None
) -> list[str]:
    """Change what `rule` holds (its code stays); return the fields that changed, audited."""
    _checked(operator, text)
    with transaction.atomic():
        stored = Rule.objects.select_for_update().get(pk=rule.pk)
        before = _snapshot(stored)
        new = text.values()
        changed = [name for name in RULE_FIELDS if before[name] != new[name]]
        if not changed:
            return []
        for name in changed:
            setattr(stored, name, new[name])
        stored.save()
        _audit(operator, stored, "updated", before=before, client_ip=client_ip)
    rule.refresh_from_db()
    return changed


def rule_retire(*, operator: AbstractBaseUser, rule: Rule, client_ip: str | None = None) -> bool:
    """Retire `rule`: no longer offered, still named on the rows made under it. False if it was."""
    return _retire_or_restore(operator, rule, retire=True, client_ip=client_ip)


def rule_restore(*, operator: AbstractBaseUser, rule: Rule, client_ip: str | None = None) -> bool:
    """Offer a retired rule again. False if it was not retired."""
    return _retire_or_restore(operator, rule, retire=False, client_ip=client_ip)


def _retire_or_restore(
    operator: AbstractBaseUser, rule: Rule, *, retire: bool, client_ip: str | None
) -> bool:
    if not operator.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied("Only Leads may change the rules.")
    with transaction.atomic():
        stored = Rule.objects.select_for_update().get(pk=rule.pk)
        if stored.retired == retire:
            return False
        stored.retired_at = datetime.fromtimestamp(clock().time(), UTC) if retire else None
        stored.save(update_fields=["retired_at", "changed_at"])
        _audit(operator, stored, "retired" if retire else "restored", client_ip=client_ip)
    rule.refresh_from_db()
    return True


def rule_delete(*, operator: AbstractBaseUser, rule: Rule, client_ip: str | None = None) -> None:
    """Delete a rule nothing was ever done under (a mistake); RuleInvalid for one in use."""
    if not operator.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied("Only Leads may change the rules.")
    with transaction.atomic():
        stored = Rule.objects.select_for_update().get(pk=rule.pk)
        if rule_in_use(code=stored.code):
            raise RuleInvalid(
                _(
                    "Changes were made under %(code)s, and the audit log names it: retire it "
                    "instead of deleting it."
                )
                % {"code": stored.code}
            )
        _audit(operator, stored, "deleted", before=_snapshot(stored), client_ip=client_ip)
        stored.delete()


def _snapshot(rule: Rule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


def _audit(
    operator: AbstractBaseUser,
    rule: Rule,
    change: str,
    *,
    before: dict[str, Any] | None = None,
    client_ip: str | None,
) -> None:
    details: dict[str, Any] = {"change": change, "code": rule.code}
    after = _snapshot(rule)
    if before is not None:
        details["before"] = {name: value for name, value in before.items()}
    if change in ("created", "updated"):
        details["after"] = after
    audit_record(
        operator=operator,
        action=AuditEntry.Action.RULE_CHANGE,
        rule=rule.code,
        client_ip=client_ip,
        details=details,
    )
