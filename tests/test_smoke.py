import pytest
from django.urls import reverse


@pytest.mark.parametrize("name", ["board:board", "retros:retro_list", "reporting:dashboard"])
def test_pages_require_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["board:board", "retros:retro_list", "reporting:dashboard"])
def test_pages_render_for_a_logged_in_user(outsider_client, name):
    assert outsider_client.get(reverse(name)).status_code == 200
