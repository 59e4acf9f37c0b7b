"""The admin without allauth's single sign-on apps and tokens: the one provider comes from the
`OIDC_*` settings (an app added in the database would be ignored) and no token is kept. The
identities people signed in with stay listed, under Social accounts."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin

for model in (SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
