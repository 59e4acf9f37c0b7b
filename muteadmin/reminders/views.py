"""Marking a review reminder done, from the home page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.reminders.models import Reminder
from muteadmin.reminders.services import reminder_done


class ReminderDoneView(View):
    """POST: the account was reviewed; the reminder leaves the home page."""

    def post(self, request: HttpRequest, reminder_id: int) -> HttpResponse:
        try:
            reminder = reminder_done(reminder_id=reminder_id, user=request.user)
        except Reminder.DoesNotExist:
            messages.error(
                request, _("There is no reminder #%(number)s.") % {"number": reminder_id}
            )
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Review of %(account)s marked done.") % {"account": reminder.account}
            )
        return redirect("mutes:lookup")
