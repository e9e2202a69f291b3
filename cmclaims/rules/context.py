"""What a rule's check receives: the normalised lines and everything attached to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np

from cmclaims.normalize.lines import Lines
from cmclaims.normalize.services import Services
from cmclaims.normalize.units import Units
from cmclaims.side.bundle import SideData
from cmclaims.side.per_line import LineSide, join_side
from cmclaims.tables import Profile

T = TypeVar("T")

if TYPE_CHECKING:
    from cmclaims.ledger.view import LedgerView  # the ledger sits above the rules: a type only


@dataclass
class Context:
    """The batch as the rules see it.

    `checkable` marks the lines whose values all parsed and whose service
    resolved: line-stage rules look only at those (a line with a CM0 error
    must be fixed first). `accepted` marks the lines no rule has rejected yet,
    and `billable` their units so far; the ledger and limit stages read and
    update both.
    """

    lines: Lines
    profile: Profile
    services: Services
    units: Units
    today: dt.date
    over_limit: str = "reject"
    side: SideData = field(default_factory=SideData)  # stays, staff and authorizations files
    ledger: LedgerView | None = None  # earlier runs, or None with --no-ledger
    checkable: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    accepted: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    billable: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    cache: dict[str, object] = field(default_factory=dict)

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        """A result the rules of one stage share (the limit pass, the CM4 sessions), computed once.

        `run_checks` forgets it when the stage ends: the next stage's rules see
        other lines (those the stage rejected are out), and the memory it holds
        serves the next stage's own results instead.
        """
        if key not in self.cache:
            self.cache[key] = compute()
        return cast(T, self.cache[key])

    def forget_shared(self) -> None:
        """Forget the results the rules of the stage that just ended shared."""
        self.cache.clear()

    def release_rule_state(self) -> None:
        """Forget what only the rules read (shared results, the side files joined per line) once they all ran.

        The sessions, timelines and limit report weigh hundreds of MB on a large
        night; the outputs need none of them, and a rule run again recomputes them.
        """
        self.forget_shared()
        self.__dict__.pop("side_lines", None)

    def column(self, name: str) -> np.ndarray:
        """A typed column of the lines frame as a numpy array."""
        return self.lines.frame[name].to_numpy()

    def has_column(self, name: str) -> bool:
        """Whether the batch has this canonical column (in at least one input)."""
        return name in self.lines.present

    @cached_property
    def side_lines(self) -> LineSide:
        """Per line: the setting and stay on the date, the staff's qualifications (side files joined once)."""
        return join_side(self.lines, self.side, self.profile.catalog.vocabulary("setting"))

    def service_text(self, rows: np.ndarray) -> np.ndarray:
        """Code and modifiers as a claim shows them (`T1017 HE TF`), as an object array for messages."""
        from cmclaims.rules.describe import service_text_objects

        return service_text_objects(self, rows)
