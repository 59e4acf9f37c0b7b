"""Django's model permissions, read in one query: every page checks them on every request."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class OneQueryModelBackend(ModelBackend):
    """ModelBackend whose permission set (the user's own and their groups') is one query.

    ModelBackend reads the user's permissions and their groups' in two queries, before any
    page is drawn; here they are one query, kept on the user for the rest of the request as
    ModelBackend keeps its own. Who may do what is unchanged: inactive users have no
    permissions, superusers have them all.
    """

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_one_query_permissions"):
            user_obj._one_query_permissions = _permission_names(user_obj)
        return user_obj._one_query_permissions


def _permission_names(user: Any) -> set[str]:
    # Unordered: Permission's default ordering joins a table for nothing.
    permissions = Permission.objects.order_by()
    if not user.is_superuser:
        permissions = permissions.filter(Q(user=user) | Q(group__user=user)).distinct()
    names = permissions.values_list("content_type__app_label", "codename")
    return {f"{app_label}.{codename}" for app_label, codename in names}
