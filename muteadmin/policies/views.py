"""The limits page: each group's longest mutes; Leads change them here, each change audited."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from muteadmin.core.http import client_ip
from muteadmin.policies.forms import GroupLimitsForm
from muteadmin.policies.models import MuteLimit
from muteadmin.policies.selectors import limit_in_words, mute_limit_table
from muteadmin.policies.services import CHANGE_PERMISSION, mute_limits_set

NO_SUCH_GROUP = gettext_lazy("That group no longer exists; reload the page and try again.")


class LimitsView(PermissionRequiredMixin, View):
    """Every group's limits; a form per group for those who may change them."""

    permission_required = "policies.view_mutelimit"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_limits()

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        raw = request.POST.get("group", "")
        # No key has more digits than a 64-bit integer; int() refuses thousands of them.
        number = raw.isascii() and raw.isdigit() and len(raw) <= len(str(2**63))
        group = Group.objects.filter(pk=int(raw)).first() if number else None
        if group is None:
            messages.error(request, NO_SUCH_GROUP)
            return redirect("policies:limits")
        form = GroupLimitsForm(data=request.POST, prefix=f"g{group.pk}")
        if not form.is_valid():
            return self.render_limits(bound={group.pk: form})
        changed = mute_limits_set(
            operator=request.user, group=group, limits=form.limits(), client_ip=client_ip(request)
        )
        if changed:
            words = _("; ").join(
                f"{MuteLimit.Kind(kind).label}{_(': ')}{limit_in_words(form.limits()[kind])}"
                for kind in changed
            )
            messages.success(
                request,
                _("Limits of %(group)s changed. %(limits)s.")
                % {"group": group.name, "limits": words},
            )
        else:
            messages.info(
                request, _("The limits of %(group)s were already those.") % {"group": group.name}
            )
        return redirect("policies:limits")

    def render_limits(self, *, bound: dict[int, GroupLimitsForm] | None = None) -> HttpResponse:
        editable = self.request.user.has_perm(CHANGE_PERMISSION)
        rows = []
        for row in mute_limit_table():
            form = None
            if editable:
                form = (bound or {}).get(row.group.pk) or GroupLimitsForm(
                    current=row.limits, prefix=f"g{row.group.pk}"
                )
            rows.append((row, form))
        context = {"rows": rows, "editable": editable, "kinds": MuteLimit.Kind.choices}
        return render(self.request, "policies/limits.html", context)
