from django.urls import path

from muteadmin.preferences import views

app_name = "preferences"

urlpatterns = [
    path("", views.PreferencesView.as_view(), name="edit"),
    path("language/", views.LanguageView.as_view(), name="language"),
    path("time-zone/", views.zone_offer, name="time_zone"),
]
