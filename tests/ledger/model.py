"""A plain model of the ledger, written from SPEC sections 5 and 6 (not from the code), for the property test.

One payer service is modelled at a time, with its limits: Oklahoma T1017 HE TF,
16 units a member a day and 56 a calendar month (SOONER), or Idaho T1017, 240
units a member a calendar year (OPTUM's annual cap, section 5: it counts every
line of the year, in every month). A night is a list of lines; its run is its content
(the same input is the same run). The model keeps, per run, the lines it
recorded, and the originals that voids and replacements retired.

What it says, in SPEC's words:
- Lines are taken in the order member, service date, start time, claim id;
  only units actually accepted count toward a limit (section 5).
- reject: a line that would cross a limit is rejected whole; cutback: it bills
  what remains, and is rejected only when nothing remains.
- A void or replacement that is itself rejected changes nothing: its original
  keeps counting. An accepted void takes its original's units out; an accepted
  replacement puts its own units in their place, from the moment it is
  accepted (section 5).
- A line whose claim_id another run already billed, in any month, is rejected
  (CM402). A claim a replacement took out stays billed (the replacement carries
  it); a voided claim may be billed again. A void or replacement keeping its
  original's claim_id is not a duplicate (section 6).
- A void or replacement whose original is not billed (never billed, or
  already voided or replaced) is rejected (CM405).
- Running the same input again replaces that run's own entries and gives the
  same outputs, also after later runs voided or replaced some of its lines:
  those lines stay as the later runs left them, billing what they billed the
  first time (a limit may have cut them back then: CM407), and the originals
  they took out stay out (section 6). So do its voids that took their
  originals out before, whatever later runs billed since (the original again,
  or the void's own claim_id): the claim would otherwise bill twice, or the
  member go over a limit.
- A run whose lines a later run voided or replaced cannot be rolled back
  before that later run; nor a run whose voids or replacements freed units
  that later nights billed (its originals would come back over a limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAILY, MONTHLY, ANNUAL = 16, 56, 240
# A payer's limits: (period, units a member may bill in one), the period being "day", "month" or "year".
SOONER = (("day", DAILY), ("month", MONTHLY))
OPTUM = (("year", ANNUAL),)


def period(kind: str, day: str) -> str:
    """The day, month or year an ISO date falls in."""
    return {"day": day, "month": day[:7], "year": day[:4]}[kind]


@dataclass(frozen=True)
class Line:
    claim: str
    member: str
    day: str  # ISO date
    slot: int  # start time order within the member's day
    units: int
    frequency: str = "1"  # 1 original, 7 replacement, 8 void
    original: str | None = None

    @property
    def month(self) -> str:
        return self.day[:7]

    @property
    def changes(self) -> bool:
        return self.frequency in ("7", "8")


@dataclass
class Recorded:
    line: Line
    units: int  # what it bills (0 for a void)


@dataclass
class Run:
    nights: tuple[Line, ...]
    lines: list[Recorded] = field(default_factory=list)
    committed: bool = True


@dataclass
class Ledger:
    runs: dict[tuple[Line, ...], Run] = field(default_factory=dict)
    order: list[tuple[Line, ...]] = field(default_factory=list)
    # (claim, run that billed it) -> (run that retired it, "void" | "replace")
    retired: dict[tuple[str, tuple[Line, ...]], tuple[tuple[Line, ...], str]] = field(default_factory=dict)
    limits: tuple[tuple[str, int], ...] = SOONER

    def active(self, excluding: tuple[Line, ...] | None = None) -> list[tuple[tuple[Line, ...], Recorded]]:
        """Recorded lines of committed runs (but `excluding`) that no void or replacement (of another run
        than `excluding`) took out."""
        out = []
        for key in self.order:
            run = self.runs[key]
            if not run.committed or key == excluding:
                continue
            for recorded in run.lines:
                gone = self.retired.get((recorded.line.claim, key))
                if gone is not None and gone[0] != excluding:
                    continue
                out.append((key, recorded))
        return out

    def billing(self, excluding: tuple[Line, ...]) -> dict[str, tuple[tuple[Line, ...], Recorded]]:
        """claim -> the first active line (in the order runs were last executed) that bills it, as run
        `excluding` sees the ledger. A run validated again sees the originals it had retired as active, so
        a claim may then have two lines; its voids and replacements name the first."""
        first: dict[str, tuple[tuple[Line, ...], Recorded]] = {}
        for key, r in self.active(excluding):
            if r.line.frequency != "8":
                first.setdefault(r.line.claim, (key, r))
        return first

    def carried(self, me: tuple[Line, ...], billing: dict) -> set[str]:
        """Claims a replacement took out whose replacement (or the replacement of that, ...) still bills."""
        links = [r.line for key in self.order if key != me and self.runs[key].committed
                 for r in self.runs[key].lines if r.line.frequency == "7"]
        carried: set[str] = set()
        while True:
            new = {line.original for line in links if (line.claim in billing or line.claim in carried)
                   and line.original is not None} - carried
            if not new:
                return carried
            carried |= new

    def validate(self, night: tuple[Line, ...], cutback: bool) -> dict[str, tuple[str, int]]:
        """Run a night: each claim's (disposition, billable units); records the run unless nothing changes."""
        me = night
        billing = self.billing(me)
        carried = self.carried(me, billing)
        # On a re-run, a void or replacement takes out the very line it took out before.
        own = {claim: run for (claim, run), (by, _) in self.retired.items() if by == me and run != me}
        active = {(key, r.line.claim): (key, r) for key, r in self.active(me)}

        def original(claim: str) -> tuple[tuple[Line, ...], Recorded]:
            if claim in own and (own[claim], claim) in active:
                return active[(own[claim], claim)]
            return billing[claim]

        # Lines of this very run that later runs voided or replaced: left as those runs left them.
        changed_later = {claim for (claim, run), (by, _) in self.retired.items() if run == me and by != me}
        # Voids of this very run that took their originals out before: left as they were too, whatever later
        # runs billed since (section 6). A void bills nothing, so a later run may bill its original again (a
        # voided claim may be billed again) or the void's own claim_id; rejecting the void would put the original
        # back, beside that claim or over a limit the later lines filled. (A replaced claim cannot be billed again
        # while its replacement bills, and a replacement's own claim_id bills.)
        changed_later |= {line.claim for line in night if line.frequency == "8" and line.original in own}
        fate: dict[str, tuple[str, int]] = {}
        accepted: list[Line] = []
        for line in night:
            duplicate = line.claim in billing or line.claim in carried
            exempt = (line.changes and line.claim == line.original) or line.claim in changed_later
            if duplicate and not exempt:
                fate[line.claim] = ("rejected", 0)  # CM402
                continue
            if line.changes and line.original not in billing:
                fate[line.claim] = ("rejected", 0)  # CM405
                continue
            accepted.append(line)

        # The limits: earlier usage (less the originals of accepted voids), then the night in order.
        voided = {line.original for line in accepted if line.frequency == "8"}
        used: dict[tuple[str, str, str], int] = {}

        def add(member: str, day: str, units: int) -> None:
            for kind, _ in self.limits:
                key = (member, kind, period(kind, day))
                used[key] = used.get(key, 0) + units

        # A replacement of this run that a later run voided or replaced stays as that run left it (section 6):
        # it is not decided again, and the original it took out stays out, as a void's does.
        kept = {line.original for line in accepted if line.frequency == "7" and line.claim in changed_later}
        taken_out = [original(claim)[1] for claim in voided | kept]
        for _, recorded in self.active(me):
            if not any(recorded is gone for gone in taken_out):
                add(recorded.line.member, recorded.line.day, recorded.units)
        for line in sorted(accepted, key=lambda x: (x.member, x.day, x.slot, x.claim)):
            if line.frequency == "8":
                fate[line.claim] = ("pass", line.units)  # a void bills nothing
                continue
            if line.claim in changed_later:  # not counted again; it bills what it billed then
                then = next(r.units for r in self.runs[me].lines if r.line.claim == line.claim)
                fate[line.claim] = ("pass" if then == line.units else "adjusted", then)
                continue
            freed = original(line.original)[1] if line.frequency == "7" and line.original else None
            room = []
            for kind, limit in self.limits:
                when = period(kind, line.day)
                in_use = used.get((line.member, kind, when), 0)
                if freed is not None and (freed.line.member, period(kind, freed.line.day)) == (line.member, when):
                    in_use -= freed.units
                room.append(max(limit - in_use, 0))
            take = line.units if min(room) >= line.units else (min(room) if cutback else 0)
            if take <= 0:
                fate[line.claim] = ("rejected", 0)
                continue
            fate[line.claim] = ("pass" if take == line.units else "adjusted", take)
            if freed is not None:
                add(freed.line.member, freed.line.day, -freed.units)
            add(line.member, line.day, take)

        # Record: the run replaces its own entries; accepted voids and replacements retire their originals.
        run = Run(night)
        for line in night:
            disposition, units = fate[line.claim]
            if disposition != "rejected":
                run.lines.append(Recorded(line, 0 if line.frequency == "8" else units))
        self.retired = {k: v for k, v in self.retired.items() if v[0] != me}
        for recorded in run.lines:
            line = recorded.line
            if line.changes:
                original_run, _ = original(line.original)
                self.retired[(line.original, original_run)] = (me, "void" if line.frequency == "8" else "replace")
        self.runs[me] = run
        if me in self.order:
            self.order.remove(me)
        self.order.append(me)
        return fate

    def rollback(self, night: tuple[Line, ...]) -> bool:
        """Undo a committed run; False (nothing changes) when a later run voided or replaced its lines, when
        another run billed again a claim this run took out (the original would come back: billed twice), or
        when the originals coming back would take a member further over a limit (a replacement for fewer
        units freed room that a later night billed: no limit is exceeded, whatever the order, section 5)."""
        if any(run == night and by != night for (_, run), (by, _) in self.retired.items()):
            return False
        for (claim, run), (by, _) in self.retired.items():
            if by == night and run != night and any(
                    key not in (night, run) and r.line.claim == claim and r.line.frequency != "8"
                    for key, r in self.active()):
                return False
        before = self.excess()
        run, retired = self.runs[night], self.retired
        self.runs[night] = Run(night, [], committed=False)
        self.retired = {k: v for k, v in self.retired.items() if v[0] != night}
        if any(units > before.get(key, 0) for key, units in self.excess().items()):
            self.runs[night], self.retired = run, retired
            return False
        return True

    def excess(self) -> dict[tuple[str, str, str], int]:
        """(member, kind, period) -> units over the limit of that kind."""
        return {(member, kind, when): units - limit for kind, limit in self.limits
                for (member, when), units in self.usage(kind).items() if units > limit}

    def usage(self, kind: str = "day") -> dict[tuple[str, str], int]:
        """Active units per member and day (or month, or year): what the ledger must hold."""
        totals: dict[tuple[str, str], int] = {}
        for _, recorded in self.active():
            key = (recorded.line.member, period(kind, recorded.line.day))
            totals[key] = totals.get(key, 0) + recorded.units
        return {k: v for k, v in totals.items() if v}
