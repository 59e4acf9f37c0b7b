"""The rules page: every role that looks up accounts reads the rules; Leads change them."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.core.http import client_ip
from muteadmin.rules.forms import RuleForm
from muteadmin.rules.ladders import ladder_words
from muteadmin.rules.models import KINDS, Rule
from muteadmin.rules.selectors import rules_all
from muteadmin.rules.services import (
    CHANGE_PERMISSION,
    RuleInvalid,
    rule_create,
    rule_delete,
    rule_restore,
    rule_retire,
    rule_update,
)


def _rule(code: str) -> Rule:
    rule = Rule.objects.filter(code=code).first()
    if rule is None:
        raise Http404("There is no rule with that code.")
    return rule


class RuleListView(PermissionRequiredMixin, View):
    """Every rule with its ladders; retired ones last, marked."""

    permission_required = "rules.view_rule"

    def get(self, request: HttpRequest) -> HttpResponse:
        rules = sorted(rules_all(), key=lambda rule: (rule.retired, rule.code))
        rows = [(rule, {kind: ladder_words(rule.ladder(kind)) for kind in KINDS}) for rule in rules]
        context = {"rows": rows, "editable": request.user.has_perm(CHANGE_PERMISSION)}
        return render(request, "rules/list.html", context)


class RuleCreateView(PermissionRequiredMixin, View):
    permission_required = CHANGE_PERMISSION

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "rules/edit.html", {"form": RuleForm(), "rule": None})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RuleForm(data=request.POST)
        if form.is_valid():
            try:
                rule = rule_create(
                    operator=request.user,
                    code=form.cleaned_data["code"],
                    text=form.text(),
                    client_ip=client_ip(request),
                )
            except RuleInvalid as exc:
                form.add_error("code", str(exc))
            else:
                messages.success(request, _("Rule %(code)s created.") % {"code": rule.code})
                return redirect("rules:list")
        return render(request, "rules/edit.html", {"form": form, "rule": None})


class RuleEditView(PermissionRequiredMixin, View):
    permission_required = CHANGE_PERMISSION

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        rule = _rule(code)
        return render(request, "rules/edit.html", {"form": RuleForm(rule=rule), "rule": rule})

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        rule = _rule(code)
        form = RuleForm(data=request.POST, rule=rule)
        if form.is_valid():
            try:
                changed = rule_update(
                    operator=request.user, rule=rule, text=form.text(), client_ip=client_ip(request)
                )
            except RuleInvalid as exc:
                form.add_error(None, str(exc))
            else:
                if changed:
                    messages.success(request, _("Rule %(code)s saved.") % {"code": rule.code})
                else:
                    messages.info(
                        request, _("Rule %(code)s already said that.") % {"code": rule.code}
                    )
                return redirect("rules:list")
        return render(request, "rules/edit.html", {"form": form, "rule": rule})


class RuleRetireView(PermissionRequiredMixin, View):
    """POST `do`: retire, restore, or delete (only a rule nothing was done under)."""

    permission_required = CHANGE_PERMISSION

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        rule = _rule(code)
        what = request.POST.get("do", "retire")
        ip = client_ip(request)
        if what == "restore":
            rule_restore(operator=request.user, rule=rule, client_ip=ip)
            messages.success(request, _("Rule %(code)s is offered again.") % {"code": code})
        elif what == "delete":
            try:
                rule_delete(operator=request.user, rule=rule, client_ip=ip)
            except RuleInvalid as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Rule %(code)s deleted.") % {"code": code})
        else:
            rule_retire(operator=request.user, rule=rule, client_ip=ip)
            messages.success(
                request,
                _("Rule %(code)s retired: no longer offered, still named on past changes.")
                % {"code": code},
            )
        return redirect("rules:list")
