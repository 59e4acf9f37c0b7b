"""Ending a person's sessions when they are deactivated.

An inactive user is signed out on their next request anyway (the backend refuses them); this
also removes their stored sessions, so none outlives the decision.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.utils import timezone

# Engines keeping sessions in the database table this module can search.
DATABASE_ENGINES = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
}


def sessions_end(*, user: AbstractBaseUser) -> int:
    """Delete the stored sessions signed in as `user`; how many there were."""
    if settings.SESSION_ENGINE not in DATABASE_ENGINES:
        return 0
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    ended = 0
    wanted = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == wanted:
            # Through the engine, so a cached copy goes too.
            store.delete(session.session_key)
            ended += 1
    return ended
