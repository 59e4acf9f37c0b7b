from django.urls import path

from muteadmin.reconcile import views

app_name = "reconcile"

urlpatterns = [
    path("", views.WatchlistView.as_view(), name="watchlist"),
    path("remove/", views.WatchlistRemoveView.as_view(), name="watchlist_remove"),
]
