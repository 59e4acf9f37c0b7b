"""Adding a staff note to an account (POST /mutes/<account>/notes/)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from muteadmin.core.http import client_ip
from muteadmin.mutes.notes import InvalidNote, account_note_add
from muteadmin.mutes.views import AccountView
from muteadmin.tencent.accounts import InvalidAccount


class AccountNoteView(AccountView):
    """Adds the note typed on the account page; anyone who may look the account up may."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, account: str) -> HttpResponse:
        text = request.POST.get("note", "")
        try:
            account_note_add(
                operator=request.user,
                account=account,
                text=text,
                app=self.app.name,
                client_ip=client_ip(request),
            )
        except InvalidAccount:
            return self.invalid_account(account)
        except InvalidNote as exc:
            # Like a change form being corrected: Tencent is not asked again, so a refused
            # note leaves no row behind.
            response = self.render_account(account, form=self.change_form(), note=(text, str(exc)))
            response.status_code = 400
            return response
        messages.success(request, _("Note added to %(account)s.") % {"account": account})
        return redirect(self.account_url(account) + "#timeline")
