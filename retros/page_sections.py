"""Places on retros pages that another app fills in, registered from its AppConfig.ready().

`improvements` imports `retros`, never the reverse (DESIGN.md), and that holds for templates and
queries as much as for imports: a retros page names a place; the app that fills it owns the
template (with its URL names) and the related rows the template reads. With nothing registered,
a place shows nothing (or retros' own plain version), so retros works on its own.
"""

from dataclasses import dataclass

# The places, and where each is. improvements/apps.py fills them all.
PLACES = {
    "retro_actions": "links beside a retro's own, at the top of its page",
    "retro_follow_up": "sections under a retro's heading: its triage, its review of open work",
    "process_actions": "buttons at the top of the process map",
    "step_change_note": "a change of a step's mode, its note (process map, step page)",
}


@dataclass(frozen=True)
class Section:
    template: str
    # Related lookups the template reads, run on the rows the place shows (for
    # step_change_note: ProcessStepChange), so a page's query count does not grow with them.
    prefetch: tuple[str, ...] = ()


_registered: dict[str, Section] = {}


def register(place: str, template: str, *, prefetch: tuple[str, ...] = ()) -> None:
    if place not in PLACES:
        raise ValueError(f"Retros pages have no place called {place!r}: {', '.join(PLACES)}.")
    _registered[place] = Section(template, prefetch)


def templates(*places: str) -> dict[str, str]:
    """The template that fills each place ("" for none), for a view's context as `sections`."""
    return {place: _registered[place].template if place in _registered else "" for place in places}


def prefetch(place: str) -> tuple[str, ...]:
    """The related lookups the template of `place` reads (none if nobody filled it)."""
    return _registered[place].prefetch if place in _registered else ()
