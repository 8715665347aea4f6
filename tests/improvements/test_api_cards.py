import json

import pytest
from django.utils import timezone

from improvements.models import Column, Comment, Event, Improvement
from retros.models import ApiToken
from tests.factories import (
    CategoryFactory,
    FindingFactory,
    ImprovementFactory,
    ProcessStepFactory,
    UnitFactory,
)

READ, WRITE, DEPLOY = "cards:read", "cards:write", "deployments:write"


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def owner_key(owner, unit):
    """A token acting for a member of a unit, with both card scopes."""
    return ApiToken.issue("Jira sync", user=owner, scopes=[READ, WRITE])[1]


@pytest.fixture
def card(columns, unit, owner):
    card = ImprovementFactory(title="Automate the smoke test", column=columns["Ideas"], unit=unit)
    Event.objects.create(improvement=card, kind=Event.Kind.CREATED, actor=owner)
    return card


def call(client, method, url, body=None, **headers):
    kwargs = {"content_type": "application/json"} if body is not None else {}
    data = json.dumps(body) if body is not None else None
    return (
        getattr(client, method)(url, data, **kwargs, **headers)
        if data
        else getattr(client, method)(url, **headers)
    )


# Every endpoint, with the scope it needs and a body that would succeed.
def endpoints(card, columns):
    return [
        ("get", "/api/cards", None, READ),
        ("get", f"/api/cards/{card.pk}", None, READ),
        ("post", "/api/cards", {"title": "Drop the changelog"}, WRITE),
        ("patch", f"/api/cards/{card.pk}", {"title": "Renamed"}, WRITE),
        ("post", f"/api/cards/{card.pk}/move", {"column": columns["Next"].pk}, WRITE),
        ("post", f"/api/cards/{card.pk}/comments", {"body": "Started"}, WRITE),
    ]


def test_every_card_endpoint_refuses_a_request_without_a_token(client, card, columns):
    cases = endpoints(card, columns)
    for method, url, body, _scope in cases:
        response = call(client, method, url, body)
        assert response.status_code == 401, (method, url)
        assert response.json()["reason"].startswith("A valid API token is required")
        assert response["WWW-Authenticate"] == "Bearer"
    assert len(cases) == 6
    assert Improvement.objects.count() == 1 and not Comment.objects.exists()


def test_every_card_endpoint_refuses_a_wrong_token(client, card, columns):
    for method, url, body, _scope in endpoints(card, columns):
        response = call(client, method, url, body, **bearer("wb_not-a-real-token"))
        assert response.status_code == 401, (method, url)


def test_every_card_endpoint_refuses_a_revoked_token(client, card, columns, owner):
    token, key = ApiToken.issue("Old", user=owner, scopes=[READ, WRITE])
    token.revoked_at = timezone.now()
    token.save()
    for method, url, body, _scope in endpoints(card, columns):
        response = call(client, method, url, body, **bearer(key))
        assert response.status_code == 401, (method, url)
    assert Improvement.objects.get().title == "Automate the smoke test"


def test_every_card_endpoint_refuses_a_token_without_its_scope(client, card, columns, owner):
    reached = 0
    for method, url, body, scope in endpoints(card, columns):
        others = [s for s in (READ, WRITE, DEPLOY) if s != scope]
        _token, key = ApiToken.issue("Narrow", user=owner, scopes=others)
        response = call(client, method, url, body, **bearer(key))
        assert response.status_code == 403, (method, url)
        assert response.json()["reason"] == f"This token lacks the {scope} scope."
        reached += 1
    assert reached == 6
    assert Improvement.objects.get().column == columns["Ideas"]
    assert not Comment.objects.exists()


def test_every_card_endpoint_answers_a_token_with_its_scope(client, card, columns, owner_key):
    for method, url, body, _scope in endpoints(card, columns):
        response = call(client, method, url, body, **bearer(owner_key))
        assert response.status_code in (200, 201), (method, url, response.content)


def test_a_card_token_cannot_record_deployments(client, owner_key):
    response = client.post("/api/deployments", "{}", "application/json", **bearer(owner_key))
    assert response.status_code == 403
    assert response.json()["reason"] == "This token lacks the deployments:write scope."


def test_a_token_issued_as_before_may_record_deployments(db):
    token, _key = ApiToken.issue("CI")
    assert token.scope_list == [DEPLOY]


def test_writes_need_a_token_user_who_may_change_the_board(client, card, columns, outsider):
    _t, outsider_key = ApiToken.issue("Outsider", user=outsider, scopes=[WRITE])
    _t, nobody_key = ApiToken.issue("Nobody", user=None, scopes=[WRITE])
    for key, reason in [
        (outsider_key, "Only members of a unit may change the board."),
        (nobody_key, "This token acts for no active user, so it cannot change cards."),
    ]:
        for method, url, body, scope in endpoints(card, columns):
            if scope != WRITE:
                continue
            response = call(client, method, url, body, **bearer(key))
            assert response.status_code == 403, (method, url)
            assert response.json()["reason"] == reason
    assert Improvement.objects.get().title == "Automate the smoke test"


def test_staff_tokens_may_write_without_a_unit(client, card, columns, staff):
    _t, key = ApiToken.issue("Admin", user=staff, scopes=[WRITE])
    response = call(client, "patch", f"/api/cards/{card.pk}", {"title": "By staff"}, **bearer(key))
    assert response.status_code == 200


def test_the_list_applies_the_board_filters(client, columns, unit, owner, owner_key):
    other = CategoryFactory(slug="tooling-x", name="Tooling X")
    ImprovementFactory(title="Flaky checkout test", unit=unit, assignee=owner)
    ImprovementFactory(title="Script the release", category=other)
    old_done = ImprovementFactory(title="Old done", column=columns["Done"])
    Improvement.objects.filter(pk=old_done.pk).update(
        column_entered_at=timezone.now() - timezone.timedelta(weeks=10)
    )
    ImprovementFactory(title="Archived", archived_at=timezone.now())

    def titles(query=""):
        response = client.get("/api/cards" + query, **bearer(owner_key))
        assert response.status_code == 200
        return [card["title"] for card in response.json()]

    assert titles() == ["Flaky checkout test", "Script the release"]
    assert titles("?all=true") == ["Flaky checkout test", "Script the release", "Old done"]
    assert titles("?q=flaky") == ["Flaky checkout test"]
    assert titles("?category=tooling-x") == ["Script the release"]
    assert titles(f"?unit={unit.pk}") == ["Flaky checkout test"]
    assert titles("?assignee=owner") == ["Flaky checkout test"]
    assert titles("?mine=true") == ["Flaky checkout test"]
    assert titles(f"?column={columns['Done'].pk}&all=true") == ["Old done"]
    assert titles("?limit=1&offset=1") == ["Script the release"]


def test_the_list_refuses_a_limit_out_of_range(client, owner_key):
    response = client.get("/api/cards?limit=100000", **bearer(owner_key))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


def test_the_detail_carries_findings_comments_and_history(client, card, owner, owner_key):
    finding = FindingFactory(text="Smoke tests take an hour")

    card.link_finding(finding, owner)
    card.comment("Halfway", author=owner)
    response = client.get(f"/api/cards/{card.pk}", **bearer(owner_key))
    body = response.json()
    assert body["title"] == "Automate the smoke test"
    assert body["recurrence"] == 1
    assert body["findings"][0]["text"] == "Smoke tests take an hour"
    assert body["comments"][0] == {
        "id": card.comments.get().pk,
        "author": "owner",
        "body": "Halfway",
        "created_at": body["comments"][0]["created_at"],
    }
    assert [event["kind"] for event in body["history"]] == ["created", "linked", "commented"]
    assert body["url"].endswith(f"/board/cards/{card.pk}/") or body["url"].endswith(
        card.get_absolute_url()
    )


def test_an_unknown_card_is_404(client, owner_key):
    for method, url, body in [
        ("get", "/api/cards/999999", None),
        ("patch", "/api/cards/999999", {"title": "x"}),
        ("post", "/api/cards/999999/move", {"column": 1}),
        ("post", "/api/cards/999999/comments", {"body": "x"}),
    ]:
        response = call(client, method, url, body, **bearer(owner_key))
        assert response.status_code == 404, (method, url)
        assert response.json()["reason"] == "No card has that id."


def test_it_creates_a_card_with_its_history(client, columns, unit, owner, owner_key):
    step = ProcessStepFactory(title="Smoke test")
    response = client.post(
        "/api/cards",
        {
            "title": "Automate smoke tests",
            "description": "We click through the shop by hand.",
            "category": "smoke-test",
            "column": columns["Next"].pk,
            "unit": unit.pk,
            "assignee": "owner",
            "target_step": step.pk,
            "expected_effect": "20 min shorter",
            "external_link": "https://acme.atlassian.net/browse/PLAT-123",
        },
        "application/json",
        **bearer(owner_key),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    card = Improvement.objects.get(pk=body["id"])
    assert (card.column, card.unit, card.assignee, card.target_step, card.created_by) == (
        columns["Next"],
        unit,
        owner,
        step,
        owner,
    )
    assert card.category.slug == "smoke-test"
    assert body["issue"] == {"tracker": "jira", "key": "PLAT-123"}
    assert body["column"]["name"] == "Next"
    assert list(card.events.values_list("kind", "actor")) == [("created", owner.pk)]


def test_a_card_created_without_category_or_column_gets_the_board_defaults(client, owner_key):
    response = client.post(
        "/api/cards", {"title": "Fix the flaky login test"}, "application/json", **bearer(owner_key)
    )
    assert response.status_code == 201
    assert response.json()["category"] == "flaky-e2e"
    assert response.json()["column"]["name"] == "Ideas"


def test_a_card_for_a_board_without_columns_is_refused_with_a_reason(client, owner_key):
    Column.objects.all().delete()
    response = client.post("/api/cards", {"title": "A"}, "application/json", **bearer(owner_key))
    assert response.status_code == 422, response.content
    assert [error["field"] for error in response.json()["errors"]] == ["column"]
    assert not Improvement.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "A", "category": "nope"}, "category"),
        ({"title": "A", "column": 999999}, "column"),
        ({"title": "A", "unit": 999999}, "unit"),
        ({"title": "A", "assignee": "ghost"}, "assignee"),
        ({"title": "A", "target_step": 999999}, "target_step"),
        ({"title": "A", "external_link": "javascript:alert(1)"}, "external_link"),
        ({"title": "A", "unit": "1"}, "unit"),
        ({"title": "A\x00B"}, "title"),
    ],
)
def test_a_card_that_cannot_be_is_refused_with_a_reason(client, owner_key, body, field):
    response = client.post("/api/cards", body, "application/json", **bearer(owner_key))
    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Improvement.objects.exists()


def test_an_update_changes_only_what_was_sent_and_logs_it(client, card, owner, owner_key):
    unit_two = UnitFactory(name="Checkout", members=[owner])
    response = client.patch(
        f"/api/cards/{card.pk}",
        {"unit": unit_two.pk, "external_link": "https://github.com/acme/shop/issues/42"},
        "application/json",
        **bearer(owner_key),
    )
    assert response.status_code == 200, response.content
    card.refresh_from_db()
    assert card.title == "Automate the smoke test"
    assert card.unit == unit_two
    assert response.json()["issue"] == {"tracker": "github", "key": "shop#42"}
    edit = card.events.get(kind="edited")
    assert edit.actor == owner
    assert set(edit.data["changed"]) == {"unit", "external_link"}


def test_an_update_clears_a_reference_sent_as_null(client, card, owner_key):
    response = client.patch(
        f"/api/cards/{card.pk}", {"unit": None}, "application/json", **bearer(owner_key)
    )
    assert response.status_code == 200
    card.refresh_from_db()
    assert card.unit is None


def test_an_update_that_changes_nothing_writes_no_event(client, card, owner_key):
    response = client.patch(
        f"/api/cards/{card.pk}",
        {"title": "Automate the smoke test"},
        "application/json",
        **bearer(owner_key),
    )
    assert response.status_code == 200
    assert not card.events.filter(kind="edited").exists()


def test_an_invalid_update_changes_nothing(client, card, owner_key):
    response = client.patch(
        f"/api/cards/{card.pk}",
        {"title": "", "expected_effect": "faster"},
        "application/json",
        **bearer(owner_key),
    )
    assert response.status_code == 422
    card.refresh_from_db()
    assert card.expected_effect == ""


def test_a_move_lands_next_to_the_named_neighbour(client, columns, owner, owner_key):
    first, second, third = (ImprovementFactory(column=columns["Next"]) for _ in range(3))
    moving = ImprovementFactory(column=columns["Ideas"])

    def move(body):
        return client.post(
            f"/api/cards/{moving.pk}/move", body, "application/json", **bearer(owner_key)
        )

    def order():
        return list(columns["Next"].improvements.order_by("position").values_list("pk", flat=True))

    assert move({"column": columns["Next"].pk, "after": first.pk}).status_code == 200
    assert order() == [first.pk, moving.pk, second.pk, third.pk]
    assert move({"column": columns["Next"].pk, "before": first.pk}).status_code == 200
    assert order() == [moving.pk, first.pk, second.pk, third.pk]
    assert move({"column": columns["Next"].pk, "place": "bottom"}).status_code == 200
    assert order() == [first.pk, second.pk, third.pk, moving.pk]
    response = move({"column": columns["In progress"].pk})
    assert response.json()["column"]["name"] == "In progress"
    assert response.json()["started_at"] is not None
    moved = Event.objects.filter(improvement=moving, kind="moved").last()
    assert (moved.actor, moved.from_column, moved.to_column) == (
        owner,
        columns["Next"],
        columns["In progress"],
    )


def test_a_move_next_to_a_card_that_left_the_column_is_409(client, columns, card, owner_key):
    elsewhere = ImprovementFactory(column=columns["Done"])
    response = client.post(
        f"/api/cards/{card.pk}/move",
        {"column": columns["Next"].pk, "after": elsewhere.pk},
        "application/json",
        **bearer(owner_key),
    )
    assert response.status_code == 409
    assert response.json()["reason"] == "The card to land next to is no longer in that column."
    card.refresh_from_db()
    assert card.column == columns["Ideas"]


@pytest.mark.parametrize(
    "body",
    [
        {"column": 999999},
        {},
        {"column": 1, "after": 2, "before": 3},
        {"column": 1, "place": "middle"},
        {"column": -1},
        {"column": 2**70},
    ],
)
def test_an_impossible_move_is_422(client, card, owner_key, body):
    response = client.post(
        f"/api/cards/{card.pk}/move", body, "application/json", **bearer(owner_key)
    )
    assert response.status_code == 422, response.content
    assert not card.events.filter(kind="moved").exists()


def test_a_move_next_to_itself_is_409(client, card, columns, owner_key):
    response = client.post(
        f"/api/cards/{card.pk}/move",
        {"column": columns["Ideas"].pk, "after": card.pk},
        "application/json",
        **bearer(owner_key),
    )
    assert response.status_code == 409


def test_a_comment_is_stored_with_its_event(client, card, owner, owner_key):
    response = client.post(
        f"/api/cards/{card.pk}/comments",
        {"body": "Pipeline draft is up"},
        "application/json",
        **bearer(owner_key),
    )
    assert response.status_code == 201
    assert response.json()["author"] == "owner"
    comment = card.comments.get()
    assert comment.body == "Pipeline draft is up"
    assert card.events.filter(kind="commented", actor=owner).exists()


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {"body": "x" * 5001}, {}])
def test_an_empty_or_huge_comment_is_refused(client, card, owner_key, body):
    response = client.post(
        f"/api/cards/{card.pk}/comments", body, "application/json", **bearer(owner_key)
    )
    assert response.status_code == 422
    assert not card.comments.exists()


def test_malformed_json_is_400(client, card, owner_key):
    response = client.post(
        "/api/cards", "{not json", content_type="application/json", **bearer(owner_key)
    )
    assert response.status_code == 400


def test_the_openapi_description_covers_the_card_endpoints(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    assert set(paths["/api/cards"]) == {"get", "post"}
    assert set(paths["/api/cards/{pk}"]) == {"get", "patch"}
    assert "post" in paths["/api/cards/{pk}/move"]
    assert "post" in paths["/api/cards/{pk}/comments"]
    assert "cards:write" in paths["/api/cards/{pk}/move"]["post"]["summary"]
    assert "CardDetailOut" in document["components"]["schemas"]


@pytest.mark.parametrize(
    "query",
    [
        "?unit=99999999999999999999",
        "?column=99999999999999999999",
        "?q=%00",
        "?category=%00",
        "?assignee=" + "x" * 151,
        "?offset=99999999999",
        "?mine=maybe",
    ],
)
def test_hostile_list_queries_answer_without_a_server_error(client, owner_key, query):
    response = client.get("/api/cards" + query, **bearer(owner_key))
    assert response.status_code in (200, 422), response.content


def test_hostile_ids_in_the_path_are_404(client, owner_key):
    for url in ["/api/cards/99999999999999999999", "/api/cards/0"]:
        assert client.get(url, **bearer(owner_key)).status_code == 404


def test_existing_tokens_keep_recording_deployments_after_the_scopes_migration(
    transactional_db,
):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("retros", "0004_retro_meeting")])
    old_apps = executor.loader.project_state([("retros", "0004_retro_meeting")]).apps
    old_apps.get_model("retros", "ApiToken").objects.create(
        name="CI", prefix="wb_x", key_hash="0" * 64
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert ApiToken.objects.get(name="CI").scope_list == ["deployments:write"]


def test_a_card_is_not_handed_to_a_unit_the_token_user_is_not_in(client, card, owner_key, unit):
    """The board's ownership rule: a card's owner confirms its verdict, so it is not lent."""
    foreign = UnitFactory(name="Search")
    response = client.patch(
        f"/api/cards/{card.pk}", {"unit": foreign.pk}, "application/json", **bearer(owner_key)
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "unit", "message": "Only staff and members of Search give it a card."}
    ]
    card.refresh_from_db()
    assert card.unit == unit
