"""Create the provider's people and its one client, Wallbreaker."""

import os

from django.contrib.auth import get_user_model
from oauth2_provider.models import Application

from .validator import PEOPLE


def seed() -> None:
    for username in PEOPLE:
        get_user_model().objects.create_user(username, password="provider-password")
    Application.objects.create(
        name="Wallbreaker",
        client_id="wallbreaker",
        client_secret=os.environ["OIDC_PROVIDER_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://testserver/oidc/callback/",
        post_logout_redirect_uris="http://testserver/accounts/login/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
