"""Card endpoints of the JSON API: read, create, edit, move and comment on board cards.

A Router added to the deployments API (retros.api) by config.urls, so it shares its token
authentication, error shape and OpenAPI document. Reads need the cards:read scope, writes
cards:write; a write acts as the token's user and is allowed by the same rules as on the
board (improvements.permissions.can_edit_board, and the edit form's ownership rule), and goes
through the same model methods, so the history, the neighbour semantics of a move and the
outbox messages are the board's own.
"""

import datetime
from typing import Annotated, Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.datastructures import MultiValueDict
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Strict

from retros.api import ErrorOut, TokenAuth, TokenRequest
from retros.models import ApiToken, Finding, ProcessStep, Unit

from .forms.board import BoardFilterForm
from .forms.cards import ImprovementForm
from .models import Category, Column, Comment, Event, Improvement, ImprovementQuerySet, MoveError
from .operations import create_improvement, guess_category
from .permissions import can_edit_board

router = Router(tags=["cards"])
read = TokenAuth(ApiToken.Scope.CARDS_READ)
write = TokenAuth(ApiToken.Scope.CARDS_WRITE)

Id = Annotated[int, Strict(), Field(ge=1, le=2**63 - 1)]


class ColumnOut(Schema):
    id: int
    name: str
    state: str


class NamedOut(Schema):
    id: int
    name: str


class IssueOut(Schema):
    tracker: Literal["jira", "github", "gitlab", "linear"]
    key: str = Field(..., description="As the tracker writes it: PLAT-123, shop#42, shop!7.")


class CardOut(Schema):
    id: int
    url: str
    title: str
    description: str
    category: str = Field(..., description="The category's slug.")
    column: ColumnOut
    position: int = Field(..., description="Order within the column (gaps are normal).")
    unit: NamedOut | None
    assignee: str | None = Field(None, description="Username.")
    target_step: NamedOut | None
    expected_effect: str
    external_link: str
    issue: IssueOut | None = Field(None, description="The issue the external link names.")
    effect_verdict: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    done_at: datetime.datetime | None
    archived_at: datetime.datetime | None

    @staticmethod
    def resolve_url(card: Improvement) -> str:
        return settings.SITE_URL.rstrip("/") + card.get_absolute_url()

    @staticmethod
    def resolve_category(card: Improvement) -> str:
        return card.category.slug

    @staticmethod
    def resolve_unit(card: Improvement) -> dict | None:
        return {"id": card.unit.pk, "name": card.unit.name} if card.unit else None

    @staticmethod
    def resolve_assignee(card: Improvement) -> str | None:
        return card.assignee.username if card.assignee else None

    @staticmethod
    def resolve_target_step(card: Improvement) -> dict | None:
        step = card.target_step
        return {"id": step.pk, "name": step.title} if step else None


class EventOut(Schema):
    kind: str
    at: datetime.datetime
    actor: str | None
    from_column: str | None
    to_column: str | None
    data: dict

    @staticmethod
    def resolve_actor(event: Event) -> str | None:
        return event.actor.username if event.actor else None

    @staticmethod
    def resolve_from_column(event: Event) -> str | None:
        return event.from_column.name if event.from_column else None

    @staticmethod
    def resolve_to_column(event: Event) -> str | None:
        return event.to_column.name if event.to_column else None


class CommentOut(Schema):
    id: int
    author: str | None
    body: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_author(comment: Comment) -> str | None:
        return comment.author.username if comment.author else None


class FindingOut(Schema):
    id: int
    kind: str
    text: str
    retro_week: str

    @staticmethod
    def resolve_retro_week(finding: Finding) -> str:
        return finding.retro.duty_week.iso_label


class CardDetailOut(CardOut):
    recurrence: int = Field(..., description="How many distinct retros raised it.")
    findings: list[FindingOut]
    comments: list[CommentOut]
    history: list[EventOut]

    @staticmethod
    def resolve_findings(card: Improvement) -> list:
        return [link.finding for link in card.finding_links.all()]

    @staticmethod
    def resolve_comments(card: Improvement) -> list:
        return list(card.comments.all())

    @staticmethod
    def resolve_history(card: Improvement) -> list:
        return list(card.events.all())


class CardFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Text in title or description.")
    category: str | None = Field(None, max_length=60, description="Category slug.")
    unit: int | None = Field(None, ge=1, description="Owning unit id.")
    assignee: str | None = Field(None, max_length=150, description="Username.")
    mine: bool = Field(False, description="Assigned to the token's user.")
    all: bool = Field(False, description="Also done and dropped cards finished long ago.")
    column: int | None = Field(None, ge=1, description="Only this column.")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class CardFields(Schema):
    """The editable fields of a card; references by slug, id or username."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20_000, description="Markdown.")
    category: str | None = Field(None, max_length=60, description="Category slug.")
    unit: Id | None = None
    assignee: str | None = Field(None, max_length=150, description="Username, or null.")
    target_step: Id | None = Field(None, description="Process step id.")
    expected_effect: str | None = Field(None, max_length=200)
    external_link: str | None = Field(
        None,
        max_length=500,
        description="An issue URL (Jira, GitHub, GitLab, Linear) or any http(s) link; "
        "the card shows the issue's key.",
    )


class CardIn(CardFields):
    title: str = Field(..., min_length=1, max_length=200)
    column: Id | None = Field(None, description="Column id; the first column when left out.")


class MoveIn(Schema):
    column: Id
    after: Id | None = Field(None, description="Land right after this card.")
    before: Id | None = Field(None, description="Land right before this card.")
    place: Literal["top", "bottom"] | None = Field(
        None, description="Top or bottom of the column, when no neighbour is named."
    )


class CommentIn(Schema):
    body: str = Field(..., min_length=1, max_length=5000, description="Markdown.")


def _cards() -> ImprovementQuerySet:
    return Improvement.objects.select_related(
        "category", "column", "unit", "assignee", "target_step"
    )


def _editor(request: TokenRequest) -> User:
    """The person a write acts for: the token's user, if the board lets them change it."""
    user = request.auth.user
    if user is None or not user.is_active:
        raise HttpError(403, "This token acts for no active user, so it cannot change cards.")
    if not can_edit_board(user):
        raise HttpError(403, "Only members of a unit may change the board.")
    return user


def _card_or_404(pk: int, cards: ImprovementQuerySet | None = None) -> Improvement:
    """The card with this id (from `cards`, the API's usual card query by default), or a 404
    that says so."""
    card = (_cards() if cards is None else cards).filter(pk=pk).first()
    if card is None:
        raise HttpError(404, "No card has that id.")
    return card


def _form_data(payload: CardFields, card: Improvement | None) -> tuple[dict, list]:
    """The ImprovementForm data for what was sent, with references turned into ids."""
    sent = payload.model_fields_set
    errors = []
    initial = ImprovementForm(instance=card).initial if card else {}
    data = {name: value for name, value in initial.items() if value is not None}
    for name in ("title", "description", "expected_effect", "external_link"):
        if name in sent:
            data[name] = getattr(payload, name) or ""
    if "category" in sent:
        category = Category.objects.filter(slug=payload.category or "").first()
        if category is None:
            errors.append({"field": "category", "message": "No category has that slug."})
        else:
            data["category"] = category.pk
    if "assignee" in sent:
        data["assignee"] = ""
        if payload.assignee:
            user = get_user_model().objects.filter(username=payload.assignee).first()
            if user is None:
                errors.append({"field": "assignee", "message": "No user has that username."})
            else:
                data["assignee"] = user.pk
    for name, model in (("unit", Unit), ("target_step", ProcessStep)):
        if name in sent:
            data[name] = getattr(payload, name) or ""
            if data[name] and not model.objects.filter(pk=data[name]).exists():
                errors.append(
                    {"field": name, "message": f"No {name.replace('_', ' ')} has that id."}
                )
    return data, errors


def _invalid(errors: list) -> Status:
    return Status(422, {"reason": "The card is not possible as sent.", "errors": errors})


def _form_errors(form: ImprovementForm) -> list:
    return [
        {"field": "" if field == "__all__" else field, "message": message}
        for field, messages in form.errors.items()
        for message in messages
    ]


@router.get(
    "/cards",
    auth=read,
    response={200: list[CardOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Cards on the board, with the board's filters (scope cards:read)",
    description="In board order (column, then position). Like the board, done and dropped "
    "cards that finished more than four weeks ago are left out unless `all` is true; "
    "archived cards are never listed.",
)
def list_cards(request: TokenRequest, filters: Query[CardFilters]) -> list[Improvement]:
    columns = list(Column.objects.all())
    finished = [column.pk for column in columns if column.is_finished]
    values = filters.model_dump(exclude={"limit", "offset", "column"}, exclude_none=True)
    form = BoardFilterForm(MultiValueDict({k: [str(v)] for k, v in values.items() if v}))
    cards = form.apply(
        _cards().on_board(finished, show_all=filters.all), request.auth.user
    ).order_by("column__position", "position")
    if filters.mine and request.auth.user is None:
        cards = cards.none()
    if filters.column:
        cards = cards.filter(column_id=filters.column)
    return list(cards[filters.offset : filters.offset + filters.limit])


@router.get(
    "/cards/{int:pk}",
    auth=read,
    response={200: CardDetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="One card with its findings, comments and history (scope cards:read)",
)
def get_card(request: TokenRequest, pk: int) -> Improvement:
    cards = (
        _cards()
        .with_recurrence()
        .prefetch_related(
            "finding_links__finding__retro__duty_week",
            "comments__author",
            "events__actor",
            "events__from_column",
            "events__to_column",
        )
    )
    return _card_or_404(pk, cards)


@router.post(
    "/cards",
    auth=write,
    response={201: CardOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Create a card (scope cards:write)",
    description="At the bottom of `column` (the first column when left out). Without a "
    "category one is guessed from the title, as the board's quick-add does.",
)
def create_card(request: TokenRequest, payload: CardIn) -> Status:
    user = _editor(request)
    if payload.column is not None:
        column = Column.objects.filter(pk=payload.column).first()
        if column is None:
            return _invalid([{"field": "column", "message": "No column has that id."}])
    else:
        column = Column.objects.order_by("position").first()
        if column is None:
            return _invalid([{"field": "column", "message": "The board has no columns yet."}])
    data, errors = _form_data(payload, None)
    if "category" not in data:
        guessed = guess_category(payload.title)
        data["category"] = guessed.pk if guessed else ""
    form = ImprovementForm(data, user=user)
    if errors or not form.is_valid():
        return _invalid(errors or _form_errors(form))
    fields = {name: value for name, value in form.cleaned_data.items() if value is not None}
    with transaction.atomic():
        card = create_improvement(user=user, column=column, **fields)
    return Status(201, _cards().get(pk=card.pk))


@router.patch(
    "/cards/{int:pk}",
    auth=write,
    response={200: CardOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Change a card's fields (scope cards:write)",
    description="Only the fields sent change; each change is one `edited` event in the "
    "card's history. Send null to clear unit, assignee or target step. Columns change "
    "through the move endpoint.",
)
def update_card(request: TokenRequest, pk: int, payload: CardFields) -> Improvement | Status:
    user = _editor(request)
    card = _card_or_404(pk)
    data, errors = _form_data(payload, card)
    form = ImprovementForm(data, instance=card, user=user)
    if errors or not form.is_valid():
        return _invalid(errors or _form_errors(form))
    with transaction.atomic():
        card.edit(form.changes(), actor=user)
    return _cards().get(pk=card.pk)


@router.post(
    "/cards/{int:pk}/move",
    auth=write,
    response={
        200: CardOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Move a card next to a neighbour, or to the top or bottom of a column "
    "(scope cards:write)",
    description="Names the card it lands after (or before), never a position number, so a "
    "move is right however stale the sender's view is. 409 when that neighbour is no longer "
    "in the column, or the board changed under the move three times running.",
)
def move_card(request: TokenRequest, pk: int, payload: MoveIn) -> Improvement | Status:
    user = _editor(request)
    card = _card_or_404(pk)
    named = [name for name in ("after", "before", "place") if getattr(payload, name)]
    if len(named) > 1:
        return _invalid(
            [{"field": "", "message": "Name one of after, before or place, not several."}]
        )
    if not Column.objects.filter(pk=payload.column).exists():
        return _invalid([{"field": "column", "message": "No column has that id."}])
    try:
        with transaction.atomic():
            card.move_to(
                payload.column,
                after=payload.after,
                actor=user,
                before=payload.before,
                to_bottom=payload.place == "bottom",
            )
    except MoveError as error:
        return Status(409, {"reason": str(error), "errors": []})
    return _cards().get(pk=card.pk)


@router.post(
    "/cards/{int:pk}/comments",
    auth=write,
    response={201: CommentOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Comment on a card (scope cards:write)",
)
def comment_card(request: TokenRequest, pk: int, payload: CommentIn) -> Status:
    user = _editor(request)
    card = _card_or_404(pk, Improvement.objects.all())
    if not payload.body.strip():
        return _invalid([{"field": "body", "message": "Write something."}])
    comment = card.comment(payload.body, author=user)
    return Status(201, comment)
