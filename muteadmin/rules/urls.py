from django.urls import path

from muteadmin.rules import views

app_name = "rules"

urlpatterns = [
    path("", views.RuleListView.as_view(), name="list"),
    path("new/", views.RuleCreateView.as_view(), name="create"),
    path("<slug:code>/", views.RuleEditView.as_view(), name="edit"),
    path("<slug:code>/retire/", views.RuleRetireView.as_view(), name="retire"),
]
