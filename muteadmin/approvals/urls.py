from django.urls import path

from muteadmin.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.RequestListView.as_view(), name="list"),
    path("<int:request_id>/approve/", views.RequestApproveView.as_view(), name="approve"),
    path("<int:request_id>/reject/", views.RequestRejectView.as_view(), name="reject"),
]
