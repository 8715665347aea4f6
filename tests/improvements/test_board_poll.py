"""Live updates: the board's htmx poll answers 304 while nothing changed, columns after a change."""

from django.urls import reverse
from django.utils.html import escape

from tests.factories import ColumnFactory, ImprovementFactory

POLL = {"HTTP_HX_REQUEST": "true", "HTTP_X_BOARD_POLL": "1"}


def poll(client, etag="", query=""):
    headers = dict(POLL)
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return client.get(reverse("board:board") + query, **headers)


def test_the_page_carries_the_etag_a_poll_answers_with(owner_client):
    ImprovementFactory()
    page = owner_client.get(reverse("board:board"))
    etag = page.context["etag"]
    assert f'data-etag="{escape(etag)}"' in page.content.decode()
    response = poll(owner_client, etag)
    assert response.status_code == 304
    assert response.content == b""


def test_a_poll_without_changes_costs_one_query_beyond_the_login(
    owner_client, django_assert_max_num_queries
):
    ImprovementFactory()
    etag = poll(owner_client)["ETag"]
    with django_assert_max_num_queries(3):  # session, user, latest event
        response = poll(owner_client, etag)
    assert response.status_code == 304


def test_a_poll_after_a_move_gets_the_fresh_columns(owner_client, columns):
    card = ImprovementFactory(title="Moving card", column=columns["Ideas"])
    etag = poll(owner_client)["ETag"]
    owner_client.post(
        reverse("board:card_move", args=[card.pk]),
        {"column": columns["Done"].pk, "place": "top"},
        HTTP_HX_REQUEST="true",
    )
    response = poll(owner_client, etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    html = response.content.decode()
    done = html.index(f'id="column-{columns["Done"].pk}"')
    assert html.index("Moving card") > done
    assert html.count('hx-swap-oob="true"') == 2  # Ideas and Done only


def test_the_etag_depends_on_the_filters(owner_client):
    ImprovementFactory()
    assert poll(owner_client)["ETag"] != poll(owner_client, query="?q=x")["ETag"]
    etag = poll(owner_client)["ETag"]
    assert poll(owner_client, etag, query="?q=x").status_code == 200


def test_a_poll_for_some_columns_answers_with_those_only(owner_client, columns):
    query = f"?column={columns['Next'].pk}&column={columns['Done'].pk}"
    html = poll(owner_client, query=query).content.decode()
    assert html.count("<section") == 2


def test_an_edit_in_the_card_dialog_changes_the_etag(owner_client, unit):
    card = ImprovementFactory(title="Old title")
    etag = poll(owner_client)["ETag"]
    owner_client.post(reverse("board:improvement_comment", args=[card.pk]), {"body": "progress"})
    assert poll(owner_client, etag).status_code == 200


def test_a_poll_after_a_move_sends_only_the_columns_it_touched(owner_client, columns):
    card = ImprovementFactory(title="Mover", column=columns["Ideas"])
    ImprovementFactory(title="Bystander", column=columns["In progress"])
    etag = poll(owner_client)["ETag"]
    card.move_to(columns["Next"])
    html = poll(owner_client, etag).content.decode()
    assert html.count("<section") == 2
    assert f'id="column-{columns["Ideas"].pk}"' in html and "Mover" in html
    assert "Bystander" not in html


def test_a_poll_after_an_edit_sends_the_card_s_column(owner_client, columns, owner):
    card = ImprovementFactory(title="Before", column=columns["Done"])
    etag = poll(owner_client)["ETag"]
    card.title = "After"
    card.edit({"title": ("Before", "After")}, actor=owner)
    html = poll(owner_client, etag).content.decode()
    assert html.count("<section") == 1 and "After" in html


def test_a_renamed_column_tells_an_open_board_to_reload(owner_client, columns):
    etag = poll(owner_client)["ETag"]
    column = columns["Next"]
    column.name = "Up next"
    column.save()
    response = poll(owner_client, etag)
    assert response.status_code == 205
    assert response["X-Board-Layout"] == "changed"
    fresh = poll(owner_client)["ETag"]
    assert poll(owner_client, fresh).status_code == 304


def test_a_deleted_column_tells_an_open_board_to_reload(owner_client, columns):
    spare = ColumnFactory(name="Spare")
    etag = poll(owner_client)["ETag"]
    spare.delete()
    assert poll(owner_client, etag)["X-Board-Layout"] == "changed"


def test_a_card_change_alone_does_not_reload_the_board(owner_client, columns):
    card = ImprovementFactory(column=columns["Ideas"])
    etag = poll(owner_client)["ETag"]
    card.move_to(columns["Next"])
    response = poll(owner_client, etag)
    assert response.status_code == 200
    assert "X-Board-Layout" not in response
