"""Improvements similar to a finding's text, so triage notices a pain that is already a card.

PostgreSQL ranks by trigram similarity (pg_trgm, GIN-indexed: see migration 0006) of the
card's title and description; SQLite, the zero-setup local run, by shared words. Candidates
are the open cards and those done in the last RECENTLY_DONE (a pain that returns after its
fix is done says the fix did not help); dropped and archived cards are left out.
"""

import copy
import datetime
import re

from django.db import connection
from django.utils import timezone

from ..models import Column, Improvement

RECENTLY_DONE = datetime.timedelta(weeks=26)
SUGGESTIONS = 3
# A suggestion this close is most likely the same thing: triage proposes joining it.
LIKELY_SAME = 0.6
# Below this share of shared words, SQLite does not suggest a card.
MIN_WORD_OVERLAP = 0.34
STOP_WORDS = {
    "the", "and", "for", "was", "were", "with", "that", "this", "from", "are", "our", "not",
    "but", "too", "has", "had", "have", "all", "its", "into", "than", "then", "again",
}  # fmt: skip

# A candidate card's id and how similar it is (0 to 1).
type Ranked = tuple[int, float]


def similar_improvements(texts: list[str], limit: int = SUGGESTIONS) -> list[list[Improvement]]:
    """For each text, up to `limit` similar cards, most similar first; each card carries its
    `similarity` (0 to 1) and `recurrence`. Three queries, however many texts."""
    if not texts:
        return []
    by_state: dict[str, list[int]] = {}
    for pk, state in Column.objects.values_list("pk", "state"):
        by_state.setdefault(state, []).append(pk)
    done_ids = by_state.get(Column.State.DONE, [])
    open_ids = by_state.get(Column.State.BACKLOG, []) + by_state.get(Column.State.ACTIVE, [])
    cutoff = timezone.now() - RECENTLY_DONE
    if connection.vendor == "postgresql":
        ranked = _ranked_by_trigrams(texts, limit, open_ids, done_ids, cutoff)
    else:
        ranked = _ranked_by_words(texts, limit, open_ids, done_ids, cutoff)
    wanted = {pk for row in ranked for pk, _score in row}
    cards = (
        Improvement.objects.filter(pk__in=wanted)
        .select_related("column", "category")
        .with_recurrence()
        .in_bulk()
        if wanted
        else {}
    )
    result = []
    for row in ranked:
        suggestions = []
        for pk, score in row:
            card = cards.get(pk)
            if card is not None:
                # A copy per text: the same card may be suggested for two findings.
                suggestion = copy.copy(card)
                suggestion.similarity = round(float(score), 2)
                suggestions.append(suggestion)
        result.append(suggestions)
    return result


def _ranked_by_trigrams(
    texts: list[str],
    limit: int,
    open_ids: list[int],
    done_ids: list[int],
    cutoff: datetime.datetime,
) -> list[list[Ranked]]:
    # One statement for every text: a LATERAL top-N per text, each served by the GIN
    # trigram indexes through the % operator (pg_trgm.similarity_threshold, 0.3).
    table = connection.ops.quote_name(Improvement._meta.db_table)
    sql = f"""
        SELECT q.n, c.id, c.score
        FROM unnest(%s::text[]) WITH ORDINALITY AS q(text, n)
        CROSS JOIN LATERAL (
            SELECT i.id,
                   GREATEST(similarity(i.title, q.text), similarity(i.description, q.text))
                       AS score
            FROM {table} i
            WHERE i.archived_at IS NULL
              AND (i.title %% q.text OR i.description %% q.text)
              AND (i.column_id = ANY(%s) OR (i.column_id = ANY(%s) AND i.done_at >= %s))
            ORDER BY score DESC, i.id DESC
            LIMIT %s
        ) c
        ORDER BY q.n, c.score DESC, c.id DESC
    """  # noqa: S608 - only the quoted table name is formatted in
    ranked: list[list[Ranked]] = [[] for _ in texts]
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(texts), open_ids, done_ids, cutoff, limit])
        for n, pk, score in cursor.fetchall():
            ranked[n - 1].append((pk, score))
    return ranked


def words(text: str) -> set[str]:
    return {
        word
        for word in re.findall(r"[a-z0-9]+", text.lower())
        if len(word) > 2 and word not in STOP_WORDS
    }


def _ranked_by_words(
    texts: list[str],
    limit: int,
    open_ids: list[int],
    done_ids: list[int],
    cutoff: datetime.datetime,
) -> list[list[Ranked]]:
    candidates = [
        (pk, words(f"{title} {description}"), words(title))
        for pk, title, description, column_id, done_at in Improvement.objects.open()
        .filter(column_id__in=open_ids + done_ids)
        .values_list("pk", "title", "description", "column_id", "done_at")
        if column_id in open_ids or (done_at is not None and done_at >= cutoff)
    ]
    ranked = []
    for text in texts:
        wanted = words(text)
        scores = []
        for pk, card_words, title_words in candidates:
            if not wanted:
                break
            # The share of the finding's words the card uses, and of the title's the finding.
            shared = len(wanted & card_words) / len(wanted)
            title_share = len(wanted & title_words) / len(title_words) if title_words else 0
            score = max(shared, title_share)
            if score >= MIN_WORD_OVERLAP:
                scores.append((score, pk))
        scores.sort(key=lambda pair: (-pair[0], -pair[1]))
        ranked.append([(pk, score) for score, pk in scores[:limit]])
    return ranked
