"""The board's columns as data: the in-app settings page, and quick-add into a column."""

import pytest
from django.urls import reverse

from improvements.models import Column, Event, Improvement
from tests.factories import ImprovementFactory
from tests.improvements.board_helpers import column_settings_form


def ordered():
    return list(Column.objects.order_by("position").values_list("name", flat=True))


def test_the_platform_team_renames_reorders_and_limits_columns(platform_client):
    columns = list(Column.objects.order_by("position"))
    data = column_settings_form(
        columns,
        Ideas={"position": 2, "name": "Inbox"},
        Next={"position": 1},
        **{"In progress": {"wip_limit": 3}},
    )
    response = platform_client.post(reverse("board:column_settings"), data)
    assert response.status_code == 302
    assert ordered() == ["Next", "Inbox", "In progress", "Done"]
    assert Column.objects.get(name="In progress").wip_limit == 3


def test_a_new_column_is_added_from_the_last_row(platform_client):
    columns = list(Column.objects.order_by("position"))
    data = column_settings_form(
        columns, new={"name": "Dropped", "position": 10, "state": "dropped"}
    )
    platform_client.post(reverse("board:column_settings"), data)
    assert ordered()[-1] == "Dropped"
    assert Column.objects.get(name="Dropped").state == Column.State.DROPPED


def test_a_column_with_cards_cannot_be_deleted(platform_client, columns):
    ImprovementFactory(column=columns["Next"])
    data = column_settings_form(list(Column.objects.order_by("position")), Next={"DELETE": "on"})
    response = platform_client.post(reverse("board:column_settings"), data)
    assert response.status_code == 200
    assert "still holds cards" in response.content.decode()
    assert "Next" in ordered()


def test_an_empty_column_can_be_deleted(platform_client):
    data = column_settings_form(list(Column.objects.order_by("position")), Next={"DELETE": "on"})
    platform_client.post(reverse("board:column_settings"), data)
    assert "Next" not in ordered()


def test_two_columns_with_the_same_order_are_refused(platform_client):
    data = column_settings_form(list(Column.objects.order_by("position")), Next={"position": 1})
    response = platform_client.post(reverse("board:column_settings"), data)
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors()
    assert ordered() == ["Ideas", "Next", "In progress", "Done"]


def test_staff_may_change_columns(client, staff):
    client.force_login(staff)
    data = column_settings_form(list(Column.objects.order_by("position")), Done={"name": "Shipped"})
    client.post(reverse("board:column_settings"), data)
    assert "Shipped" in ordered()


@pytest.mark.parametrize("who", ["owner_client", "outsider_client"])
def test_others_see_the_columns_but_may_not_change_them(db, request, who):
    client = request.getfixturevalue(who)
    response = client.get(reverse("board:column_settings"))
    assert response.status_code == 200 and "Save columns" not in response.content.decode()
    data = column_settings_form(list(Column.objects.order_by("position")), Done={"name": "Shipped"})
    assert client.post(reverse("board:column_settings"), data).status_code == 403
    assert "Shipped" not in ordered()


def test_quick_add_puts_a_card_at_the_bottom_and_records_it(owner_client, owner, columns):
    ImprovementFactory(title="First", column=columns["Next"])
    response = owner_client.post(
        reverse("board:column_add_card", args=[columns["Next"].pk]),
        {"title": "Fix the flaky login test"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Fix the flaky login test" in response.content.decode()
    titles = list(
        Improvement.objects.filter(column=columns["Next"])
        .order_by("position")
        .values_list("title", flat=True)
    )
    assert titles == ["First", "Fix the flaky login test"]
    card = Improvement.objects.get(title="Fix the flaky login test")
    assert card.category.slug == "flaky-e2e"
    assert card.created_by == owner
    assert Event.objects.filter(improvement=card, kind="created", actor=owner).exists()


def test_quick_add_on_a_filtered_board_takes_the_filter_values(owner_client, owner, unit, columns):
    url = reverse("board:column_add_card", args=[columns["Ideas"].pk])
    owner_client.post(url + f"?unit={unit.pk}&category=tooling&mine=1", {"title": "A script"})
    card = Improvement.objects.get(title="A script")
    assert (card.unit, card.category.slug, card.assignee) == (unit, "tooling", owner)


def test_quick_add_needs_a_title(owner_client, columns):
    response = owner_client.post(
        reverse("board:column_add_card", args=[columns["Ideas"].pk]),
        {"title": " "},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert not Improvement.objects.exists()


def test_an_outsider_may_not_quick_add(outsider_client, columns):
    response = outsider_client.post(
        reverse("board:column_add_card", args=[columns["Ideas"].pk]), {"title": "Nope"}
    )
    assert response.status_code == 403
    assert not Improvement.objects.exists()
