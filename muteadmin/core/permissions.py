"""Django's model permissions, read in one query: every page checks them on every request."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class OneQueryModelBackend(ModelBackend):
    """ModelBackend whose permission set (the user's own and their groups') is one query.

    ModelBackend reads the user's permissions and their groups' in two queries, before any
    page is drawn; here they are one UNION, kept on the user for the rest of the request as
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
    # Unordered: Permission's default ordering joins a table for nothing, and a UNION
    # cannot order by a column it does not select.
    permissions = Permission.objects.order_by().values_list("content_type__app_label", "codename")
    if user.is_superuser:
        names = permissions
    else:
        own, groups = permissions.filter(user=user), permissions.filter(group__user=user)
        names = own.union(groups).order_by()
    return {f"{app_label}.{codename}" for app_label, codename in names}
