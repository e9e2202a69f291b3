"""The rule registry: every check is a rule with a code, a dotted name and a severity.

A rule is a small function decorated with `@rule(...)`. Its docstring is its
user-facing explanation (`cmclaims rule CODE` prints it) and must have the parts
in `DOC_SECTIONS`; its message is a template filled, vectorised, from the
fields the check returns. The registry refuses, at import time, a malformed
code, a code used twice, a name outside its family, or a docstring with a part
missing, so a rule cannot be added half-documented.
"""

from __future__ import annotations

import inspect
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from cmclaims.rules.context import Context
    from cmclaims.tables import Profile

Severity = Literal["error", "warning"]
Effect = Literal["reject", "adjust", "warn"]
# When a rule runs: on every line (input), on lines with usable values (line),
# against earlier runs (ledger), or in the sequential limit pass (limits). A `compliance`
# rule concerns a member or staff member over time, not a line: `cmclaims compliance`
# checks it (cmclaims/compliance/), validate never runs it.
Stage = Literal["input", "line", "ledger", "limits", "compliance"]

FAMILIES = {
    "CM0": ("input", "input and schema: unparseable values, missing values, unknown codes and vocabulary"),
    "CM1": ("units", "time and units: no billable time, units that differ from the documented time"),
    "CM2": ("limits", "limits: daily, monthly, per diem, annual cap, authorization used up"),
    "CM3": ("activity", "travel and activities that are not billable case management"),
    "CM4": ("duplicates", "duplicates and overlaps: same line twice, already billed, overlapping times"),
    "CM5": ("eligibility", "member eligibility: age, residence or stay, incarceration, enrollment, program"),
    "CM6": ("staff", "staff qualifications: the credential or training a service requires"),
    "CM7": ("documentation", "documentation: unsigned note, missing contact type or place of service"),
    "CM8": ("compliance", "compliance over time: plans, contacts, follow-ups, staff hours and caseloads"),
}
DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "How to fix", "Source")
_CODE = re.compile(r"CM[0-8]\d\d")
_NAME = re.compile(r"[a-z]+(\.[a-z_]+)+")


@dataclass
class Flags:
    """What a check found: the lines it flags and, per flagged line, the message's fields.

    `fields` values are arrays aligned with `rows`, or scalars shared by all of
    them. `units` (adjusting rules only) is the line's new billable units.
    """

    rows: np.ndarray
    fields: dict[str, object] = field(default_factory=dict)
    units: np.ndarray | None = None

    @classmethod
    def none(cls) -> Flags:
        """No line flagged."""
        return cls(np.empty(0, dtype=np.int64))

    @classmethod
    def where(cls, mask: np.ndarray, **fields: object) -> Flags:
        """Flag the lines where `mask` holds; array fields are line-aligned and get subset."""
        rows = np.flatnonzero(mask)
        return cls(rows, {k: v[rows] if isinstance(v, np.ndarray) and v.shape == mask.shape else v
                          for k, v in fields.items()})

    def __len__(self) -> int:
        return int(self.rows.size)


Check = Callable[["Context"], Flags]


@dataclass(frozen=True)
class Rule:
    """A registered rule: what it is called, how severe, what it checks and when it runs."""
    code: str
    name: str
    severity: Severity
    effect: Effect
    message: str
    doc: str
    stage: Stage
    needs: tuple[str, ...]
    applies: Callable[[Profile], bool] | None
    check: Check | None
    # The profile decides this rule's severity (CM8xx: `[compliance] line_severity`), not the registry.
    profile_severity: bool = False

    @property
    def family(self) -> str:
        """`CM2` for CM201: the hundreds digit names the family."""
        return self.code[:3]

    @property
    def summary(self) -> str:
        """The first line of the docstring: what `cmclaims rules` shows."""
        return self.doc.split("\n", 1)[0].strip()

    def section(self, title: str) -> str:
        """One part of the explanation ("What it checks", "How to fix", ...)."""
        match = re.search(rf"^{re.escape(title)}:\n(.*?)(?=^\S[^\n]*:\n|\Z)", self.doc, re.M | re.S)
        return inspect.cleandoc(match.group(1)) if match else ""

    @property
    def fields(self) -> tuple[str, ...]:
        """The names the message template fills."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.message) if name)

    def severity_in(self, profile: Profile) -> Severity:
        """The severity under this profile: the registry's, or the profile's for a CM8xx line rule."""
        if self.profile_severity:
            return "error" if profile.compliance.line_severity == "error" else "warning"
        return self.severity

    def effect_in(self, profile: Profile) -> Effect:
        """What a finding does to the line under this profile."""
        if self.profile_severity:
            return "reject" if self.severity_in(profile) == "error" else "warn"
        return self.effect

    @property
    def what_it_does(self) -> str:
        """How `cmclaims rule` and docs/rules.md describe its effect: `warning, warns the line`."""
        if self.stage == "compliance":
            return "a requirement over time, checked by `cmclaims compliance` (not a line of validate)"
        if self.profile_severity:
            return "warning, warns the line (error, rejects it, where the profile's [compliance] says so)"
        return f"{self.severity}, {self.effect}s the line"

    def applies_to(self, profile: Profile) -> bool:
        """Whether the profile enforces this rule's family and has the policy it checks."""
        return profile.enforces(self.family) and (self.applies is None or self.applies(profile))


REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    message: str,
    effect: Effect | None = None,
    stage: Stage = "line",
    needs: tuple[str, ...] = (),
    applies: Callable[[Profile], bool] | None = None,
    profile_severity: bool = False,
) -> Callable[[Check], Check]:
    """Register the decorated check as rule `code`; see the module docstring for what is enforced."""

    def register(check: Check) -> Check:
        doc = inspect.cleandoc(check.__doc__ or "")
        _validate(code, name, doc)
        REGISTRY[code] = Rule(
            code=code,
            name=name,
            severity=severity,
            effect=effect or ("reject" if severity == "error" else "warn"),
            message=message,
            doc=doc,
            stage=stage,
            needs=needs,
            applies=applies,
            check=check,
            profile_severity=profile_severity,
        )
        return check

    return register


def requirement(
    code: str,
    name: str,
    *,
    message: str,
    doc: str,
    applies: Callable[[Profile], bool],
    needs: tuple[str, ...] = (),
) -> Rule:
    """Register a requirement over time (stage `compliance`): documented like a rule, checked by
    `cmclaims compliance` over the ledger (cmclaims/compliance/), never by validate."""
    doc = inspect.cleandoc(doc)
    _validate(code, name, doc)
    REGISTRY[code] = Rule(code=code, name=name, severity="warning", effect="warn", message=message, doc=doc,
                          stage="compliance", needs=needs, applies=applies, check=None)
    return REGISTRY[code]


def _validate(code: str, name: str, doc: str) -> None:
    if not _CODE.fullmatch(code):
        raise ValueError(f"rule code {code!r} is not CM followed by three digits (family 0-8)")
    if code in REGISTRY:
        raise ValueError(f"rule code {code} is registered twice")
    family_word = FAMILIES[code[:3]][0]
    if not _NAME.fullmatch(name) or not name.startswith(family_word + "."):
        raise ValueError(f"rule {code}: name {name!r} must be dotted and start with '{family_word}.'")
    missing = [s for s in DOC_SECTIONS if f"\n{s}:\n" not in f"\n{doc}"]
    if not doc or missing:
        raise ValueError(f"rule {code}: its docstring lacks {', '.join(missing) or 'everything'}")


def rules_in_order() -> list[Rule]:
    """Every registered rule, by code."""
    from cmclaims import rules as _  # noqa: F401  (importing the package registers every rule)

    return [REGISTRY[code] for code in sorted(REGISTRY)]


def get_rule(code: str) -> Rule:
    """The rule with this code (case does not matter); KeyError when there is none."""
    rules_in_order()
    return REGISTRY[code.upper()]
