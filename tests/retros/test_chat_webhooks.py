from retros.models import ChatWebhook, Delivery
from tests.factories import UnitFactory

URL = "/integrations/chat/"
HOOK = "https://hooks.slack.com/services/T000/B000/secretsecret"


def test_a_member_adds_a_channel_for_their_unit(owner_client, owner, unit):
    response = owner_client.post(URL + "new/", {"unit": unit.pk, "kind": "slack", "url": HOOK})
    assert response.status_code == 302
    webhook = ChatWebhook.objects.get()
    assert (webhook.unit, webhook.created_by, webhook.url) == (unit, owner, HOOK)


def test_the_list_masks_the_secret_part_of_the_url(owner_client, unit):
    ChatWebhook.objects.create(unit=unit, url=HOOK)
    page = owner_client.get(URL).content.decode()
    assert "https://hooks.slack.com/…cret" in page
    assert "B000" not in page


def test_a_member_may_not_add_one_for_another_unit_or_the_organisation(owner_client, unit):
    other = UnitFactory(name="Search")
    for unit_value in (other.pk, ""):
        response = owner_client.post(
            URL + "new/", {"unit": unit_value, "kind": "slack", "url": HOOK}
        )
        assert response.status_code == 400
    assert not ChatWebhook.objects.exists()


def test_an_outsider_may_not_add_any(outsider_client):
    response = outsider_client.post(URL + "new/", {"unit": "", "kind": "slack", "url": HOOK})
    assert response.status_code == 403
    assert not ChatWebhook.objects.exists()


def test_the_platform_team_adds_an_organisation_wide_channel(platform_client):
    response = platform_client.post(URL + "new/", {"unit": "", "kind": "teams", "url": HOOK})
    assert response.status_code == 302
    assert ChatWebhook.objects.get().unit is None


def test_a_url_that_is_not_http_is_refused(owner_client, unit):
    for url in ("ftp://example.com/x", "javascript:alert(1)", "not a url", "https://\x00/"):
        response = owner_client.post(URL + "new/", {"unit": unit.pk, "kind": "slack", "url": url})
        assert response.status_code == 400, url
    assert not ChatWebhook.objects.exists()


def test_only_those_who_may_change_a_channel_remove_or_test_it(client, outsider, owner, unit):
    webhook = ChatWebhook.objects.create(unit=unit, url=HOOK)
    client.force_login(outsider)
    assert client.post(f"{URL}{webhook.pk}/test/").status_code == 403
    assert client.post(f"{URL}{webhook.pk}/delete/").status_code == 403
    assert not Delivery.objects.exists()
    client.force_login(owner)
    assert client.post(f"{URL}{webhook.pk}/test/").status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.chat_webhook == webhook and "Test message from Wallbreaker" in delivery.body
    assert client.post(f"{URL}{webhook.pk}/delete/").status_code == 302
    assert not ChatWebhook.objects.exists()


def test_staff_see_how_delivery_is_going(admin_client):
    page = admin_client.get(URL).content.decode()
    assert "0 deliveries waiting" in page
    assert "Outgoing webhooks" in page
