import pytest
from django.urls import reverse

from retros.models import Unit
from tests.factories import UserFactory


def test_the_unit_list_shows_every_unit(outsider_client, unit):
    response = outsider_client.get(reverse("teams:unit_list"))

    assert response.status_code == 200
    assert "Payments" in response.text
    assert "Create unit" not in response.text


def test_a_platform_member_creates_a_unit(client, platform_member):
    client.force_login(platform_member)

    response = client.post(
        reverse("teams:unit_create"), {"name": "Search", "kind": "product", "is_active": "on"}
    )

    unit = Unit.objects.get(name="Search")
    assert response.status_code == 302
    assert response["Location"] == unit.get_absolute_url()
    assert unit.is_active


def test_a_unit_without_a_name_re_renders_with_the_kind_kept(client, platform_member):
    client.force_login(platform_member)

    response = client.post(reverse("teams:unit_create"), {"name": "  ", "kind": "qa"})

    assert response.status_code == 400
    assert "This field is required." in response.text or "Give the unit a name." in response.text
    assert '<option value="qa" selected>' in response.text
    assert not Unit.objects.filter(kind="qa").exists()


def test_a_duplicate_unit_name_is_refused(client, platform_member, unit):
    client.force_login(platform_member)

    response = client.post(reverse("teams:unit_create"), {"name": "Payments", "kind": "product"})

    assert response.status_code == 400
    assert "already exists" in response.text


def test_staff_add_and_remove_members(client, staff, unit):
    client.force_login(staff)
    newcomer = UserFactory(username="newcomer")

    client.post(reverse("teams:unit_member_add", args=[unit.pk]), {"user": newcomer.pk})
    assert unit.members.filter(pk=newcomer.pk).exists()

    client.post(reverse("teams:unit_member_remove", args=[unit.pk, newcomer.pk]))
    assert not unit.members.filter(pk=newcomer.pk).exists()


def test_staff_deactivate_a_unit(client, staff, unit):
    client.force_login(staff)

    response = client.post(
        reverse("teams:unit_edit", args=[unit.pk]), {"name": "Payments", "kind": "product"}
    )

    assert response.status_code == 302
    unit.refresh_from_db()
    assert not unit.is_active


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider"])
def test_people_outside_the_platform_team_cannot_manage_units(client, request, unit, who):
    client.force_login(request.getfixturevalue(who))
    stranger = UserFactory(username="stranger")
    owner = request.getfixturevalue("owner")

    assert (
        client.post(reverse("teams:unit_create"), {"name": "X", "kind": "product"}).status_code
        == 403
    )
    edit = client.post(
        reverse("teams:unit_edit", args=[unit.pk]), {"name": "Renamed", "kind": "qa"}
    )
    assert edit.status_code == 403
    add = client.post(reverse("teams:unit_member_add", args=[unit.pk]), {"user": stranger.pk})
    assert add.status_code == 403
    remove = client.post(reverse("teams:unit_member_remove", args=[unit.pk, owner.pk]))
    assert remove.status_code == 403
    unit.refresh_from_db()
    assert unit.name == "Payments" and unit.is_active
    assert set(unit.members.values_list("username", flat=True)) == {"owner", "teammate"}
    assert not Unit.objects.filter(name="X").exists()


def test_a_member_renews_the_unit_feed_and_the_old_url_stops_working(owner_client, unit):
    old = unit.feed_token

    response = owner_client.post(reverse("teams:unit_feed_regenerate", args=[unit.pk]))

    unit.refresh_from_db()
    assert response.status_code == 302
    assert unit.feed_token != old
    assert owner_client.get(reverse("teams:unit_feed", args=[old])).status_code == 404
    assert owner_client.get(reverse("teams:unit_feed", args=[unit.feed_token])).status_code == 200


def test_an_outsider_cannot_renew_a_unit_feed_nor_see_it(outsider_client, unit):
    old = unit.feed_token

    assert (
        outsider_client.post(reverse("teams:unit_feed_regenerate", args=[unit.pk])).status_code
        == 403
    )
    assert old not in outsider_client.get(unit.get_absolute_url()).text
    unit.refresh_from_db()
    assert unit.feed_token == old
