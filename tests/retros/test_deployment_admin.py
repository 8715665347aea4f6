from django.urls import reverse

from retros.models import ApiToken, ProcessStepChange
from tests.factories import ProcessStepFactory


def test_an_api_token_made_in_the_admin_is_shown_once_and_stored_hashed(admin_client):
    response = admin_client.post(
        reverse("admin:retros_apitoken_add"),
        {"name": "GitLab CI", "user": "", "scopes": ["deployments:write"]},
        follow=True,
    )
    token = ApiToken.objects.get(name="GitLab CI")
    shown = [str(m) for m in response.context["messages"] if "Copy the token" in str(m)]
    assert len(shown) == 1
    key = shown[0].rsplit(" ", 1)[-1]
    assert key.startswith("wb_") and key not in (token.key_hash, token.prefix)
    assert token.key_hash == ApiToken.hash(key)
    assert ApiToken.authenticate(key) == token


def test_a_token_revoked_in_the_admin_stops_working(admin_client):
    token, key = ApiToken.issue("Jenkins")
    admin_client.post(
        reverse("admin:retros_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert ApiToken.authenticate(key) is None


def test_a_mode_changed_in_the_admin_is_recorded(admin_client):
    step = ProcessStepFactory(title="Smoke test", mode="manual", position=1)
    response = admin_client.post(
        reverse("admin:retros_processstep_change", args=[step.pk]),
        {
            "position": 1,
            "title": "Smoke test",
            "how_to": "",
            "mode": "automated",
            "minutes": 10,
            "unit": "",
            "changes-TOTAL_FORMS": 0,
            "changes-INITIAL_FORMS": 0,
            "changes-MIN_NUM_FORMS": 0,
            "changes-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.mode == "automated"
    change = ProcessStepChange.objects.get()
    assert (change.old_mode, change.new_mode, change.note) == (
        "manual",
        "automated",
        "Changed in the admin",
    )
