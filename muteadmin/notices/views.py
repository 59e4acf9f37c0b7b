"""The notice texts page: Leads read, add and edit the texts sent after a change."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.notices.forms import NoticeTemplateForm
from muteadmin.notices.models import NoticeTemplate

# Longer ids cannot be rows (and overflow a database integer): they are refused as not found.
MAX_ID_DIGITS = 18


class NoticeTemplatesView(PermissionRequiredMixin, View):
    """Every notice text, each editable in place, and a form to add one for a rule."""

    permission_required = "notices.change_noticetemplate"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page()

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("template", "")
        template = None
        if raw:
            if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS):
                raise Http404(_("No such notice text."))
            template = get_object_or_404(NoticeTemplate, pk=int(raw))
        form = NoticeTemplateForm(data=request.POST, instance=template, auto_id=_ids(template))
        if not form.is_valid():
            return self.page(failed=form, status=400)
        saved = form.save()
        messages.success(request, _("Saved the notice text for %(text)s.") % {"text": saved})
        return redirect(reverse("notices:templates"))

    def page(self, *, failed: NoticeTemplateForm | None = None, status: int = 200) -> HttpResponse:
        rows = []
        for template in NoticeTemplate.objects.all():
            same = failed is not None and failed.instance.pk == template.pk
            form = failed if same else NoticeTemplateForm(instance=template, auto_id=_ids(template))
            rows.append((template, form))
        adding = failed if failed is not None and failed.instance.pk is None else None
        context = {"rows": rows, "new_form": adding or NoticeTemplateForm()}
        return render(self.request, "notices/templates.html", context, status=status)


def _ids(template: NoticeTemplate | None) -> str:
    """Element ids for one text's form: the page holds a form per text, each label for its field."""
    return f"id_notice{template.pk}_%s" if template else "id_%s"
