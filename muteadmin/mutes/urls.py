from django.urls import path

from muteadmin.mutes import views

app_name = "mutes"

urlpatterns = [
    path("", views.LookupView.as_view(), name="lookup"),
    path("mutes/", views.LookupView.as_view(), name="find"),
    path("mutes/<path:account>/cards/", views.AccountCardsView.as_view(), name="cards"),
    path("mutes/<path:account>/", views.AccountView.as_view(), name="account"),
]
