"""The retros app's models, one module per domain; importable from here, as Django expects.

- `teams`: units, people's feeds and the weekly duty rota (and the signals that renew feed tokens).
- `deployments`: deployments, the documented process's steps and their history, API tokens.
- `retros`: retrospectives, their findings, groups, votes and revisions.
- `integrations`: chat and outgoing webhooks, and the outbox that delivers to them.
- `runs`: deployment runs done step by step in the app.
"""

from .deployments import (
    FUTURE_SLACK,
    MANUAL_MODES,
    ApiToken,
    Deployment,
    DeploymentQuerySet,
    ManualLeft,
    ProcessStep,
    ProcessStepChange,
    ProcessStepRevision,
    StaleUpdate,
    revise_how_to,
)
from .integrations import ChatWebhook, Delivery, OutboxMessage, OutgoingWebhook
from .retros import (
    KIND_ORDER,
    MAX_VOTES_PER_PERSON,
    Finding,
    FindingGroup,
    RetroRevision,
    Retrospective,
    Vote,
    most_pressing_kind,
    rank,
)
from .runs import (
    DeploymentRun,
    DeploymentRunQuerySet,
    RunEvent,
    RunRefused,
    RunStep,
    RunStepInterval,
    as_utc,
    clock,
)
from .teams import DutyWeek, DutyWeekQuerySet, PersonFeed, Unit, new_feed_token

__all__ = [
    "FUTURE_SLACK",
    "KIND_ORDER",
    "MAX_VOTES_PER_PERSON",
    "ApiToken",
    "ChatWebhook",
    "Delivery",
    "Deployment",
    "DeploymentQuerySet",
    "DeploymentRun",
    "DeploymentRunQuerySet",
    "DutyWeek",
    "DutyWeekQuerySet",
    "Finding",
    "FindingGroup",
    "OutboxMessage",
    "OutgoingWebhook",
    "PersonFeed",
    "MANUAL_MODES",
    "ManualLeft",
    "ProcessStep",
    "ProcessStepChange",
    "ProcessStepRevision",
    "RetroRevision",
    "Retrospective",
    "RunEvent",
    "RunRefused",
    "RunStep",
    "RunStepInterval",
    "StaleUpdate",
    "Unit",
    "Vote",
    "as_utc",
    "clock",
    "most_pressing_kind",
    "new_feed_token",
    "rank",
    "revise_how_to",
]
