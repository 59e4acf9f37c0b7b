from django.urls import path

from muteadmin.reminders import views

app_name = "reminders"

urlpatterns = [
    path("<int:reminder_id>/done/", views.ReminderDoneView.as_view(), name="done"),
]
