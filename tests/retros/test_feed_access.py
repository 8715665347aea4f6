"""Who keeps reading a calendar feed: not a deactivated person, not someone who left the unit."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from retros.models import PersonFeed, Unit
from tests.factories import UnitFactory


def _status(client, name: str, token: str) -> int:
    return client.get(reverse(name, args=[token])).status_code


def test_a_deactivated_persons_feed_is_not_found(client, owner, duty_week):
    token = PersonFeed.for_user(owner).token
    assert _status(client, "teams:person_feed", token) == 200

    owner.is_active = False
    owner.save()

    assert _status(client, "teams:person_feed", token) == 404


def test_a_reactivated_person_gets_their_feed_back(client, owner, duty_week):
    token = PersonFeed.for_user(owner).token
    owner.is_active = False
    owner.save()
    owner.is_active = True
    owner.save()

    assert _status(client, "teams:person_feed", token) == 200


def test_removing_a_member_on_the_unit_page_renews_the_unit_feed(client, staff, unit, owner):
    old = unit.feed_token
    client.force_login(staff)

    response = client.post(
        reverse("teams:unit_member_remove", args=[unit.pk, owner.pk]), follow=True
    )

    unit.refresh_from_db()
    assert unit.feed_token != old
    assert _status(client, "teams:unit_feed", old) == 404
    assert _status(client, "teams:unit_feed", unit.feed_token) == 200
    assert "calendar feed has a new address" in response.text
    assert unit.feed_token in response.text  # the members who stay see the new address


def test_removing_a_member_from_the_users_side_or_clearing_renews_the_feed(unit, owner):
    other = UnitFactory(name="Other", members=[owner])
    before = {u.pk: u.feed_token for u in (unit, other)}

    owner.units.remove(unit)
    assert Unit.objects.get(pk=unit.pk).feed_token != before[unit.pk]
    assert Unit.objects.get(pk=other.pk).feed_token == before[other.pk]

    owner.units.clear()
    assert Unit.objects.get(pk=other.pk).feed_token != before[other.pk]


def test_the_admins_member_list_renews_the_feed_of_a_unit_someone_left(
    admin_client, unit, owner, teammate
):
    old = unit.feed_token
    response = admin_client.post(
        reverse("admin:retros_unit_change", args=[unit.pk]),
        {"name": unit.name, "kind": unit.kind, "is_active": "on", "members": [teammate.pk]},
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert list(unit.members.all()) == [teammate]
    assert unit.feed_token != old


def test_adding_a_member_keeps_the_feed_address(unit, outsider):
    old = unit.feed_token
    unit.members.add(outsider)
    assert Unit.objects.get(pk=unit.pk).feed_token == old


def test_deactivating_a_member_renews_their_units_feeds(unit, owner):
    old = unit.feed_token
    owner.is_active = False
    owner.save()
    assert Unit.objects.get(pk=unit.pk).feed_token != old


def test_saving_an_active_member_or_their_last_login_keeps_the_feed(unit, owner):
    old = unit.feed_token
    owner.first_name = "Olga"
    owner.save()
    get_user_model().objects.get(pk=owner.pk).save(update_fields=["last_login"])
    assert Unit.objects.get(pk=unit.pk).feed_token == old
