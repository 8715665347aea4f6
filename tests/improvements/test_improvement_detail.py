"""Card detail: the page and the dialog fragment, sanitised markdown, edits, comments,
archiving and dropping, each written to the card's history."""

import pytest
from django.urls import reverse

from improvements.models import Column, Comment, Event, FindingLink, Improvement
from tests.factories import FindingFactory, ImprovementFactory, UserFactory

HOSTILE = (
    "Hello <script>alert('x')</script>\n\n"
    '<img src="x" onerror="alert(1)">\n\n'
    "[click me](javascript:alert(1)) and [fine](https://example.com)\n\n"
    '<a href="javascript:alert(2)" onclick="alert(3)">raw link</a>'
)


def test_the_detail_page_shows_the_card_and_where_it_came_from(owner_client, columns, unit):
    card = ImprovementFactory(
        title="Automate the release notes",
        description="Use **conventional commits**.",
        unit=unit,
        expected_effect="10 minutes shorter",
        external_link="https://jira.example.com/WB-1",
    )
    finding = FindingFactory(text="Writing the changelog by hand takes ages")
    FindingLink.objects.create(finding=finding, improvement=card)
    card.comment("Started on it", author=UserFactory(username="writer"))
    response = owner_client.get(reverse("board:improvement_detail", args=[card.pk]))
    html = response.content.decode()
    assert "<html" in html
    assert "<strong>conventional commits</strong>" in html
    assert "Payments" in html and "10 minutes shorter" in html
    assert "https://jira.example.com/WB-1" in html
    assert "Writing the changelog by hand takes ages" in html
    assert "Started on it" in html
    assert "Commented" in html


def test_htmx_gets_the_detail_as_a_fragment_for_the_dialog(owner_client):
    card = ImprovementFactory(title="In a dialog")
    response = owner_client.get(
        reverse("board:improvement_detail", args=[card.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="card-dialog-body",
    )
    html = response.content.decode()
    assert "In a dialog" in html
    assert "<html" not in html and 'id="card-detail"' in html


@pytest.mark.parametrize("field", ["description", "comment"])
def test_hostile_markdown_is_rendered_harmless(owner_client, field):
    card = ImprovementFactory(description=HOSTILE if field == "description" else "")
    if field == "comment":
        Comment.objects.create(improvement=card, body=HOSTILE)
    html = owner_client.get(reverse("board:improvement_detail", args=[card.pk])).content.decode()
    # Only the rendered markdown: the edit form shows the raw text, escaped.
    marker = 'class="card-panel description"' if field == "description" else "card-panel comment"
    start = html.index(marker)
    article = html[
        start : html.index("</section>" if field == "description" else "</article>", start)
    ]
    assert "Hello" in article
    assert "<script>alert" not in article
    assert "onerror" not in article
    assert "onclick" not in article
    assert "javascript:" not in article
    assert '<a href="https://example.com"' in article


def test_an_edit_saves_the_fields_and_records_what_changed(owner_client, owner):
    card = ImprovementFactory(title="Old title", expected_effect="")
    response = owner_client.post(
        reverse("board:improvement_edit", args=[card.pk]),
        {
            "title": "New title",
            "description": "",
            "category": card.category_id,
            "expected_effect": "Half the time",
        },
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.title, card.expected_effect) == ("New title", "Half the time")
    event = Event.objects.get(improvement=card, kind="edited")
    assert event.actor == owner
    assert event.data["changed"]["title"] == ["Old title", "New title"]
    assert set(event.data["changed"]) == {"title", "expected_effect"}


def test_an_invalid_edit_keeps_what_was_typed_and_changes_nothing(owner_client):
    card = ImprovementFactory(title="Keep me")
    response = owner_client.post(
        reverse("board:improvement_edit", args=[card.pk]),
        {"title": "Typed but", "category": card.category_id, "external_link": "not a url"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="card-detail",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Typed but"' in html and "Enter a valid URL" in html
    assert Improvement.objects.get(pk=card.pk).title == "Keep me"
    assert not Event.objects.filter(kind="edited").exists()


def test_a_comment_is_added_with_an_event(owner_client, owner):
    card = ImprovementFactory()
    response = owner_client.post(
        reverse("board:improvement_comment", args=[card.pk]),
        {"body": "Half done"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="card-detail",
    )
    assert "Half done" in response.content.decode()
    assert Comment.objects.get(improvement=card).author == owner
    assert Event.objects.filter(improvement=card, kind="commented", actor=owner).exists()


def test_archive_and_unarchive_write_events(owner_client, owner):
    card = ImprovementFactory(title="Shelved")
    owner_client.post(reverse("board:improvement_archive", args=[card.pk]))
    card.refresh_from_db()
    assert card.archived_at is not None
    board = owner_client.get(reverse("board:board"))
    assert card.pk not in [c.pk for column in board.context["columns"] for c in column.cards]
    owner_client.post(reverse("board:improvement_archive", args=[card.pk]), {"action": "unarchive"})
    card.refresh_from_db()
    assert card.archived_at is None
    kinds = list(Event.objects.filter(improvement=card).values_list("kind", flat=True))
    assert kinds == ["archived", "unarchived"]


def test_dropping_moves_the_card_to_a_dropped_column_when_there_is_one(owner_client, columns):
    dropped = Column.objects.create(name="Dropped", position=99, state=Column.State.DROPPED)
    card = ImprovementFactory(column=columns["Next"])
    owner_client.post(reverse("board:improvement_drop", args=[card.pk]), {"reason": "Not worth it"})
    card.refresh_from_db()
    assert card.column == dropped and card.archived_at is None
    assert card.dropped_reason == "Not worth it"
    event = Event.objects.get(improvement=card, kind="dropped")
    assert event.data == {"reason": "Not worth it"}
    assert Event.objects.filter(improvement=card, kind="moved", to_column=dropped).exists()


def test_dropping_archives_the_card_when_no_column_is_for_dropped_work(owner_client, columns):
    card = ImprovementFactory(column=columns["Next"])
    owner_client.post(reverse("board:improvement_drop", args=[card.pk]), {"reason": "Duplicate"})
    card.refresh_from_db()
    assert card.archived_at is not None and card.dropped_reason == "Duplicate"
    assert Event.objects.filter(improvement=card, kind="dropped").exists()


def test_dropping_needs_a_reason(owner_client):
    card = ImprovementFactory()
    response = owner_client.post(reverse("board:improvement_drop", args=[card.pk]), {"reason": " "})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Improvement.objects.get(pk=card.pk).archived_at is None


@pytest.mark.parametrize(
    "name, data",
    [
        ("board:improvement_edit", {"title": "Hacked"}),
        ("board:improvement_comment", {"body": "Hi"}),
        ("board:improvement_archive", {}),
        ("board:improvement_drop", {"reason": "No"}),
    ],
)
def test_an_outsider_may_read_but_not_change_a_card(outsider_client, name, data):
    card = ImprovementFactory(title="Safe")
    assert (
        outsider_client.get(reverse("board:improvement_detail", args=[card.pk])).status_code == 200
    )
    response = outsider_client.post(reverse(name, args=[card.pk]), data)
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.title == "Safe" and card.archived_at is None
    assert not Event.objects.filter(improvement=card).exists()


@pytest.mark.parametrize("who", ["teammate", "staff"])
def test_teammates_and_staff_may_comment(client, request, unit, who):
    client.force_login(request.getfixturevalue(who))
    card = ImprovementFactory()
    client.post(reverse("board:improvement_comment", args=[card.pk]), {"body": "Yes"})
    assert Comment.objects.filter(improvement=card).count() == 1


def test_the_edit_form_comes_when_asked_for(owner_client):
    card = ImprovementFactory(title="Lazy")
    edit_url = reverse("board:improvement_edit", args=[card.pk])
    page = owner_client.get(card.get_absolute_url()).content.decode()
    assert 'name="assignee"' not in page
    assert f'hx-get="{edit_url}"' in page and f'<a href="{edit_url}">' in page
    fragment = owner_client.get(edit_url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<form") and 'name="assignee"' in fragment
    assert 'value="Lazy"' in fragment
    # Without JavaScript the link opens the card's page with the form open.
    page = owner_client.get(edit_url).content.decode()
    assert "<details open>" in page and 'name="assignee"' in page and "<html" in page


def test_an_outsider_gets_no_edit_form(outsider_client):
    card = ImprovementFactory()
    assert outsider_client.get(reverse("board:improvement_edit", args=[card.pk])).status_code == 403


def test_the_edit_url_takes_only_get_and_post(owner_client):
    card = ImprovementFactory()
    assert owner_client.put(reverse("board:improvement_edit", args=[card.pk])).status_code == 405
