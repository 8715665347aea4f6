"""The provider's claims: each test person's email, whether it is verified, and groups."""

from oauth2_provider.oauth2_validators import OAuth2Validator

PEOPLE = {
    "alice": {"email": "alice@acme.example", "email_verified": True, "groups": ["wb-admins"]},
    "bob": {"email": "bob@acme.example", "email_verified": False, "groups": []},
    "eve": {"email": "eve@evil.example", "email_verified": True, "groups": []},
    "carol": {"email": "Carol@ACME.example", "email_verified": True, "groups": []},
}


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim, whatever the scopes

    def get_additional_claims(self, request):
        person = PEOPLE.get(request.user.username, {})
        return {
            **person,
            "given_name": request.user.username.title(),
            "family_name": "Example",
        }
