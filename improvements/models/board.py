"""The improvement board: categories, columns and cards, and how cards move between columns."""

import datetime
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.models import Count, Exists, Q
from django.urls import reverse
from django.utils import timezone

from retros.models import (
    ChatWebhook,
    Finding,
    OutgoingWebhook,
    ProcessStep,
    ProcessStepChange,
    Retrospective,
    Unit,
)
from retros.outbox import enqueue

from ..issue_links import IssueReference, issue_reference
from .history import Comment, Event
from .links import FindingLink

if TYPE_CHECKING:
    from ..board_cards import BoardCard  # board_cards builds on these models

# Cards are spaced this far apart so a move usually writes one row: the moved card.
POSITION_GAP = 1024
# Done and dropped cards older than this stay off the board unless asked for.
FINISHED_CARDS_SHOWN_FOR = datetime.timedelta(weeks=4)
FINISHED_CARDS_SHOWN_WEEKS = FINISHED_CARDS_SHOWN_FOR.days // 7
# What a column's count means wherever one is shown (board headers, dashboard): the cards the
# board shows in it, by ImprovementQuerySet.on_board (and its SQL twin Improvement.board_counts).
COUNT_RULE = (
    "A column counts its open cards; a done or dropped column only those finished in the "
    f"last {FINISHED_CARDS_SHOWN_WEEKS} weeks, as the board shows them."
)


class MoveError(ValueError):
    """A card move that cannot be done as asked; the message says why."""


class _CardMovedMeanwhile(Exception):  # noqa: N818 - a signal between attempts, not an error
    def __init__(
        self,
        column_id: int,
        started_at: datetime.datetime | None,
        done_at: datetime.datetime | None,
    ) -> None:
        self.column_id, self.started_at, self.done_at = column_id, started_at, done_at


class Category(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    colour = models.CharField(max_length=7, default="#6b7280", help_text="A hex colour, #rrggbb.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="category_colour_is_hex",
                violation_error_message="Colour must look like #1a2b3c.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Column(models.Model):
    # Not stored: the board (improvements.views) hangs its cards, their count and whether it
    # is over its limit on each column, and a card's page the cards it can land next to.
    cards: "list[BoardCard]"
    card_count: int
    over_limit: bool
    neighbours: list[tuple[int, str]]

    class State(models.TextChoices):
        BACKLOG = "backlog", "Backlog"
        ACTIVE = "active", "Active"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    name = models.CharField(max_length=60)
    position = models.PositiveIntegerField(unique=True)
    state = models.CharField(max_length=10, choices=State, default=State.BACKLOG)
    wip_limit = models.PositiveIntegerField(null=True, blank=True)
    # Part of the board's ETag, so open boards notice a renamed, reordered or new column.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.DROPPED)

    @property
    def has_wip_limit(self) -> bool:
        """WIP limits count work not yet finished; done and dropped columns only collect."""
        return self.wip_limit is not None and not self.is_finished

    @classmethod
    def dropped_column(cls) -> "Column | None":
        return cls.objects.filter(state=cls.State.DROPPED).order_by("position").first()


class ImprovementQuerySet(models.QuerySet["Improvement"]):
    def open(self) -> "ImprovementQuerySet":
        return self.filter(archived_at__isnull=True)

    def on_board(
        self, finished_column_ids: Collection[int], show_all: bool = False
    ) -> "ImprovementQuerySet":
        """Open cards; done and dropped ones that finished long ago only when `show_all`.

        Keeps the board fast after years of use: old finished cards stay out unless asked for.
        Improvement.board_counts states the same rule in plain SQL, because every card move
        asks for counts and building this query with the ORM cost more than running it; a
        change here is a change there, and test_board_counts_agree_with_the_cards_the_board_shows
        (tests/improvements/test_move.py) fails until both agree.
        """
        cards = self.open()
        if not show_all and finished_column_ids:
            cutoff = timezone.now() - FINISHED_CARDS_SHOWN_FOR
            cards = cards.exclude(column_id__in=finished_column_ids, column_entered_at__lt=cutoff)
        return cards

    def with_recurrence(self) -> "ImprovementQuerySet":
        return self.annotate(
            recurrence=Count("finding_links__finding__retro", distinct=True),
        )


class Improvement(models.Model):
    # Not stored: with_recurrence() annotates `recurrence`; the dashboard's recurring pains
    # (improvements.metrics) set `first_week` and `later_retros`, triage's suggestions
    # (improvements.similar) `similarity`, and the step-cost panel `step_effect`.
    recurrence: int
    first_week: datetime.date
    later_retros: int
    similarity: float
    step_effect: dict[str, Any] | None

    class Verdict(models.TextChoices):
        """What people concluded about a finished card's effect (the app only suggests)."""

        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Helped"
        NO_EFFECT = "no_effect", "No change"
        REGRESSED = "regressed", "Made worse"
        UNCLEAR = "unclear", "Can’t tell"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="improvements")
    # No index of its own: the unique (column, position) index and the open-cards index below
    # serve lookups by column, and every move rewrites each index of this table.
    column = models.ForeignKey(
        Column, on_delete=models.PROTECT, related_name="improvements", db_index=False
    )
    position = models.IntegerField()
    unit = models.ForeignKey(
        Unit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="improvements",
        verbose_name="owning unit",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_improvements",
    )
    target_step = models.ForeignKey(
        ProcessStep,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="improvements",
        verbose_name="targets process step",
    )
    expected_effect = models.CharField(max_length=200, blank=True)
    external_link = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_improvements",
    )
    created_at = models.DateTimeField(default=timezone.now)
    column_entered_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    dropped_reason = models.CharField(max_length=300, blank=True)
    effect_verdict = models.CharField(max_length=10, choices=Verdict, default=Verdict.PENDING)

    objects = ImprovementQuerySet.as_manager()

    class Meta:
        ordering = ["column__position", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["column", "position"],
                name="improvement_position_unique_per_column",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]
        indexes = [
            models.Index(fields=["done_at"]),
            models.Index(fields=["created_at"]),
            # The cards on the board, by column: a finished column's recent cards are a range.
            models.Index(
                fields=["column", "column_entered_at"],
                condition=Q(archived_at__isnull=True),
                name="improvement_open_by_column",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("board:improvement_detail", args=[self.pk])

    @property
    def days_in_column(self) -> int:
        return (timezone.now() - self.column_entered_at).days

    @property
    def issue(self) -> "IssueReference | None":
        """The issue tracker key its external link names (PLAT-123, shop#42), if any."""
        return issue_reference(self.external_link)

    def move_to(
        self,
        column: "Column | int",
        after: "Improvement | int | None" = None,
        actor: User | None = None,
        *,
        before: "Improvement | int | None" = None,
        to_bottom: bool = False,
    ) -> set[int]:
        """Put this card in `column` right after `after` (at the top when None).

        `before` lands it right before that card instead, and `to_bottom` at the end. Naming
        the neighbour instead of an index keeps a move right on a filtered or stale board.
        Both affected columns are locked for the transaction, so concurrent moves queue up
        instead of interleaving. Returns the ids of the columns that changed.

        Four queries in the usual case: lock the columns, read the neighbours, update this
        card, write the event.
        """
        target_id = column if isinstance(column, int) else column.pk
        after_id = after.pk if isinstance(after, Improvement) else after
        before_id = before.pk if isinstance(before, Improvement) else before
        if self.pk in (after_id, before_id):
            raise MoveError("A card cannot land next to itself.")
        for _attempt in range(3):
            try:
                # Inside an outer transaction this is a savepoint: rolling it back releases
                # the column locks, so a retry takes its locks in order again (no deadlock).
                with transaction.atomic():
                    return self._move_once(target_id, after_id, before_id, to_bottom, actor)
            except _CardMovedMeanwhile as moved:
                # Its times too: a stale copy must not stamp a start or finish again.
                self.column_id = moved.column_id
                self.started_at, self.done_at = moved.started_at, moved.done_at
        raise MoveError("The board changed while moving this card; try again.")

    def _move_once(
        self,
        target_id: int,
        after_id: int | None,
        before_id: int | None,
        to_bottom: bool,
        actor: User | None,
    ) -> set[int]:
        source_id = self.column_id
        column_ids = sorted({source_id, target_id})
        # Whether anyone listens (chat, outgoing webhooks) rides along with the lock, so a
        # move that tells nobody costs no query for it.
        locked = {
            locked.pk: locked
            for locked in Column.objects.select_for_update(of=("self",))
            .filter(pk__in=column_ids)
            .annotate(
                chat_listens=Exists(ChatWebhook.objects.filter(is_active=True)),
                hooks_listen=Exists(OutgoingWebhook.objects.filter(is_active=True)),
            )
            .order_by("pk")
        }
        if target_id not in locked:
            raise MoveError("That column no longer exists.")
        target = locked[target_id]
        lower, upper = self._neighbour_positions(target_id, after_id, before_id, to_bottom)
        position = self._position_between(lower, upper)
        if position is None:
            # No room between the neighbours: respace this one column and look again.
            self._respace(target)
            lower, upper = self._neighbour_positions(target_id, after_id, before_id, to_bottom)
            position = self._position_between(lower, upper)
        now = timezone.now()
        changes: dict = {"column_id": target_id, "position": position}
        if target_id != source_id:
            changes["column_entered_at"] = now
            if target.state != Column.State.BACKLOG and self.started_at is None:
                changes["started_at"] = now
            if target.is_finished and self.done_at is None:
                changes["done_at"] = now
            elif not target.is_finished and self.done_at is not None:
                changes["done_at"] = None
        # The column condition catches a card someone else moved since it was read: then
        # start again from where it is now, under the right locks.
        if not Improvement.objects.filter(pk=self.pk, column_id=source_id).update(**changes):
            current = (
                Improvement.objects.filter(pk=self.pk)
                .values_list("column_id", "started_at", "done_at")
                .first()
            )
            if current is None:
                raise MoveError("This card no longer exists.")
            raise _CardMovedMeanwhile(*current)
        for field, value in changes.items():
            setattr(self, field, value)
        self.column = target
        self._record(Event.Kind.MOVED, actor, from_column_id=source_id, to_column_id=target_id)
        if target.chat_listens or target.hooks_listen:
            self._tell_about_move(source_id, target, actor, chat=target.chat_listens)
        return set(column_ids)

    def _tell_about_move(
        self, source_id: int, target: Column, actor: User | None, *, chat: bool
    ) -> None:
        """Outbox messages for this move, in its transaction (see improvements.notifications)."""
        from .. import notifications

        over_by = 0
        limit = target.wip_limit if target.has_wip_limit else None
        if chat and target.pk != source_id and limit is not None:
            count = Improvement.objects.open().filter(column=target).count()
            # Only the move that crosses the limit says so, not every move after it.
            over_by = 1 if count == limit + 1 else 0
        enqueue(*notifications.card_moved(self, source_id, target, actor, over_limit_by=over_by))

    def _neighbour_positions(
        self, column_id: int, after_id: int | None, before_id: int | None, to_bottom: bool
    ) -> tuple[int | None, int | None]:
        """The positions this card lands between, read in one query.

        Plain SQL: this runs inside the column lock on every move, and building it with the
        ORM took longer than running it (docs/performance.md#move-queries-in-plain-sql).
        """
        if to_bottom:
            anchor_id, descending = None, True
        elif after_id is not None:
            anchor_id, descending = after_id, False
        else:
            anchor_id, descending = before_id, before_id is not None
        # Only the quoted table name is formatted in; every value goes as a parameter.
        table = connection.ops.quote_name(Improvement._meta.db_table)
        sql = f"SELECT id, position FROM {table} WHERE column_id = %s AND id <> %s"  # noqa: S608
        params = [column_id, self.pk]
        if anchor_id is not None:
            # The anchor and the card just past it (NULL, so no rows, if it left the column).
            anchor = f"SELECT position FROM {table} WHERE id = %s AND column_id = %s"  # noqa: S608
            sql += f" AND position {'<=' if descending else '>='} ({anchor})"
            params += [anchor_id, column_id]
        sql += f" ORDER BY position {'DESC' if descending else 'ASC'} LIMIT %s"
        params.append(1 if anchor_id is None else 2)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if anchor_id is None:
            nearest = rows[0][1] if rows else None
            return (nearest, None) if to_bottom else (None, nearest)
        if not rows or rows[0][0] != anchor_id:
            raise MoveError("The card to land next to is no longer in that column.")
        neighbour = rows[1][1] if len(rows) > 1 else None
        if after_id is not None:
            return rows[0][1], neighbour
        return neighbour, rows[0][1]

    @staticmethod
    def board_counts(
        columns: "list[Column]", *, show_all: bool = False, above: int = 0
    ) -> dict[int, tuple[int, int]]:
        """Per column id: the cards the board shows in it, and how many of them sit above
        position `above`.

        The same rule as ImprovementQuerySet.on_board (which the board's own card query
        uses), in plain SQL: every card move asks for these counts, and the ORM took longer to
        build the query than to run it (docs/performance.md#move-queries-in-plain-sql). A change
        to either is a change to both; test_board_counts_agree_with_the_cards_the_board_shows
        pins them together.
        """
        if not columns:
            return {}
        # Written as an OR of per-column ranges so PostgreSQL can read each from the
        # open-cards index: a finished column's cards since the cutoff, every other one whole.
        whole = [column.pk for column in columns if show_all or not column.is_finished]
        recent = [column.pk for column in columns if not show_all and column.is_finished]
        where: list[str] = []
        params: list[Any] = [above]
        if whole:
            where.append(f"column_id IN ({', '.join(['%s'] * len(whole))})")
            params += whole
        if recent:
            cutoff = timezone.now() - FINISHED_CARDS_SHOWN_FOR
            where.append(
                f"(column_id IN ({', '.join(['%s'] * len(recent))}) AND column_entered_at >= %s)"
            )
            params += [*recent, connection.ops.adapt_datetimefield_value(cutoff)]
        table = connection.ops.quote_name(Improvement._meta.db_table)
        sql = (
            "SELECT column_id, COUNT(*), SUM(CASE WHEN position < %s THEN 1 ELSE 0 END)"  # noqa: S608
            f" FROM {table} WHERE archived_at IS NULL AND ({' OR '.join(where)})"
            " GROUP BY column_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counts = {column_id: (total, ahead) for column_id, total, ahead in cursor.fetchall()}
        return {column.pk: counts.get(column.pk, (0, 0)) for column in columns}

    # A card's history ---------------------------------------------------------------------
    # Metrics, the weekly update and recurrence read Event rows, so only the methods below
    # write them (tests/improvements/test_one_history_write_path.py holds every other module
    # to that): each change of a card is one named method, and an undo writes an event too.

    def _record(self, kind: str, actor: User | None = None, **fields: Any) -> "Event":
        """Write one line of this card's history."""
        return Event.objects.create(improvement=self, kind=kind, actor=actor, **fields)

    def history_entry(self, kind: str, actor: User | None = None, **fields: Any) -> "Event":
        """One line of this card's history, not yet saved: for `record_history` (seeding)."""
        return Event(improvement=self, kind=kind, actor=actor, **fields)

    @staticmethod
    def record_history(entries: "list[Event]", batch_size: int | None = None) -> "list[Event]":
        """Write many `history_entry` lines at once (years of seeded history): one INSERT
        per batch."""
        return Event.objects.bulk_create(entries, batch_size=batch_size)

    @classmethod
    def record_unlinked(
        cls, improvement_id: int, finding: int, retro: int | None, actor: User | None = None
    ) -> "Event":
        """The event a link leaves when it goes, however it went (see links.record_unlink)."""
        return Event.objects.create(
            improvement_id=improvement_id,
            kind=Event.Kind.UNLINKED,
            actor=actor,
            data={"finding": finding, "retro": retro},
        )

    @classmethod
    @transaction.atomic
    def create_on_board(
        cls, column: Column, actor: User | None = None, **fields: Any
    ) -> "Improvement":
        """A new card at the bottom of `column`, with its CREATED event."""
        # The column lock keeps two new cards from taking the same next position.
        Column.objects.select_for_update().filter(pk=column.pk).first()
        improvement = cls.objects.create(
            column=column, position=cls.next_position(column), created_by=actor, **fields
        )
        improvement._record(Event.Kind.CREATED, actor, to_column=column)
        improvement.column = column
        return improvement

    @transaction.atomic
    def link_finding(self, finding: Finding, actor: User | None = None) -> FindingLink:
        """A retro finding raised (or joins) this card: it counts toward its recurrence."""
        # Saving the link marks the finding as triaged (FindingLink.save).
        link = FindingLink.objects.create(finding=finding, improvement=self, linked_by=actor)
        self._record(
            Event.Kind.LINKED,
            actor,
            data={"finding": finding.pk, "retro": finding.retro_id},
        )
        return link

    @transaction.atomic
    def set_verdict(self, verdict: str, actor: User | None = None, suggested: str = "") -> str:
        """Record what people concluded about this card's effect; returns the previous one."""
        previous = self.effect_verdict
        self.effect_verdict = verdict
        self.save(update_fields=["effect_verdict"])
        self._record(
            Event.Kind.VERDICT,
            actor,
            data={"verdict": verdict, "previous": previous, "suggested": suggested},
        )
        return previous

    @transaction.atomic
    def change_target_step(
        self, mode: str, actor: User | None = None
    ) -> "ProcessStepChange | None":
        """Change the mode of the step this card targets, and say so on both sides.

        The change is recorded twice, on purpose: as a ProcessStepChange (the process map's
        history, with this card named in its note) and as a STEP_CHANGED event on the card
        that points at it, so each side can show the other without `retros` importing
        `improvements`. None when the step already had that mode.
        """
        if self.target_step_id is None:
            raise ValueError(f"Improvement #{self.pk} targets no process step.")
        step = ProcessStep.objects.select_for_update().get(pk=self.target_step_id)
        old_mode = step.mode
        note = f"Improvement #{self.pk} done: {self.title}"[:300]
        change = step.change_mode(mode, user=actor, note=note)
        if change is not None:
            self._record(
                Event.Kind.STEP_CHANGED,
                actor,
                step_change=change,
                data={"step": step.pk, "from": old_mode, "to": mode},
            )
        return change

    def edit(self, changed: dict[str, tuple[Any, Any]], actor: User | None = None) -> None:
        """Save the already-assigned `changed` fields ({name: (old, new)}) and log them."""
        if not changed:
            return
        self.save(update_fields=list(changed))
        self._record(
            Event.Kind.EDITED,
            actor,
            data={"changed": {name: [str(old), str(new)] for name, (old, new) in changed.items()}},
        )

    @transaction.atomic
    def comment(
        self, body: str, author: User | None = None, retro: "Retrospective | None" = None
    ) -> "Comment":
        """A comment with its event; a progress note from a retro's carry-over names it."""
        comment = Comment.objects.create(improvement=self, author=author, body=body)
        data = {"comment": comment.pk, **({"retro": retro.pk} if retro else {})}
        self._record(Event.Kind.COMMENTED, author, data=data)
        return comment

    @transaction.atomic
    def archive(self, actor: User | None = None) -> None:
        if self.archived_at is not None:
            return
        self.archived_at = timezone.now()
        self.save(update_fields=["archived_at"])
        self._record(Event.Kind.ARCHIVED, actor)

    @transaction.atomic
    def unarchive(self, actor: User | None = None) -> None:
        if self.archived_at is None:
            return
        self.archived_at = None
        self.save(update_fields=["archived_at"])
        self._record(Event.Kind.UNARCHIVED, actor)

    @transaction.atomic
    def drop(self, reason: str, actor: User | None = None) -> set[int]:
        """Give up on this card: to the top of a dropped column, or archived if there is none.

        Returns the ids of the board columns that changed.
        """
        self.dropped_reason = reason
        self.save(update_fields=["dropped_reason"])
        dropped = Column.dropped_column()
        changed = {self.column_id}
        if dropped is not None:
            changed = self.move_to(dropped, actor=actor)
        else:
            self.archived_at = timezone.now()
            self.save(update_fields=["archived_at"])
        self._record(
            Event.Kind.DROPPED,
            actor,
            data={"reason": reason},
            to_column=dropped,
        )
        return changed

    @transaction.atomic
    def unlink_finding(self, finding: Finding, actor: User | None = None) -> bool:
        """Take a finding off this card (it waits for triage again); True if it was linked.

        The only way a link goes: the event keeps the card's history in step with its
        recurrence, which counts the links that remain.
        """
        link = FindingLink.objects.filter(finding=finding, improvement=self).first()
        if link is None:
            return False
        link.unlinked_by = actor  # for the event record_unlink writes
        link.delete()
        finding.set_outcome(Finding.Outcome.PENDING)
        return True

    @transaction.atomic
    def reopen(self, actor: User | None = None, finding: Finding | None = None) -> set[int]:
        """Move a finished card back to work (the first active column) and say why.

        A pain that returns after its fix is done is a sign the fix did not help: the card
        goes to the top of the first active column (or backlog, if the board has none).
        Returns the ids of the columns that changed.
        """
        target = (
            Column.objects.filter(state=Column.State.ACTIVE).order_by("position").first()
            or Column.objects.filter(state=Column.State.BACKLOG).order_by("position").first()
        )
        if target is None or not self.column.is_finished:
            return set()
        changed = self.move_to(target, actor=actor)
        data = {"finding": finding.pk, "retro": finding.retro_id} if finding else {}
        self._record(Event.Kind.REOPENED, actor, to_column=target, data=data)
        return changed

    @staticmethod
    def _position_between(lower: int | None, upper: int | None) -> int | None:
        if lower is None:
            return POSITION_GAP if upper is None else upper - POSITION_GAP
        if upper is None:
            return lower + POSITION_GAP
        if upper - lower < 2:
            return None
        return (lower + upper) // 2

    @staticmethod
    def _respace(column: Column) -> None:
        """Spread a column's cards out evenly again, in the same order, in three statements.

        Numbered by ROW_NUMBER() in the database: done in Python (bulk_update's CASE of one
        branch per card) a large Done column took seconds under the column lock
        (docs/performance.md#respace).
        """
        cards = Improvement.objects.filter(column=column)
        lowest = cards.aggregate(lowest=models.Min("position"))["lowest"]
        if lowest is None:
            return
        # SQLite checks uniqueness row by row, so park every card below the lowest position
        # first (distinct places, clear of every old one), then flip them all at once.
        offset = min(lowest, 0) - 1
        table = connection.ops.quote_name(Improvement._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET position = %s - ranked.n * %s FROM ("  # noqa: S608
                f" SELECT id, ROW_NUMBER() OVER (ORDER BY position, id) AS n FROM {table}"
                f" WHERE column_id = %s) AS ranked WHERE {table}.id = ranked.id",
                [offset, POSITION_GAP, column.pk],
            )
        cards.update(position=offset - models.F("position"))

    @classmethod
    def next_position(cls, column: Column) -> int:
        last = (
            cls.objects.filter(column=column)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        return (last or 0) + POSITION_GAP
