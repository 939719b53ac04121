"""Status tags: one colour per meaning, each state with exactly one (issue 11, point 19)."""

import re
from pathlib import Path

from checklists.models import ReviewStatus
from checklists.selectors import ItemStatus
from supervision.models import Admonishment, Decision, Status

CSS = (Path(__file__).resolve().parents[2] / "static" / "css" / "site.css").read_text()


def _colours():
    """{state value: the declarations of the one rule that colours it}."""
    colours = {}
    for selectors, body in re.findall(r"((?:\.tag\.s-[a-z_]+,?\s*)+)\{([^}]*)\}", CSS):
        for state in re.findall(r"\.tag\.s-([a-z_]+)", selectors):
            assert state not in colours, f"{state} is coloured twice"
            colours[state] = body.strip()
    return colours


def test_every_state_has_one_colour():
    colours = _colours()
    states = [
        *ReviewStatus.values,
        *Status.values,
        *Decision.values,
        *Admonishment.Outcome.values,
        ItemStatus.NOT_STARTED,
        ItemStatus.IN_PROGRESS,
        ItemStatus.DONE,
        ItemStatus.OVERDUE,
    ]
    assert [state for state in states if state not in colours] == []


def test_states_of_different_meanings_look_different():
    colours = _colours()
    # approved, done, in progress, pending and listed shared one pale red before.
    meanings = ["approved", "in_progress", "submitted", "listed", "overdue", "not_started"]
    assert len({colours[state] for state in meanings}) == len(meanings)
    assert colours["approved"] == colours["done"] == colours["closed"]
    assert colours["overdue"] == colours["returned"] == colours["rejected"]
    assert colours["submitted"] == colours["pending"]
