"""Synthetic encounter exports for demos, tests and benchmarks: `cmclaims sample`.

`generate(profile, rows, seed)` draws members, staff, stays and lines for one
payer profile, with a realistic share of problems (`rates.ProblemRates`), and
returns the export and its side files as Arrow tables; `write_sample` writes
them. Everything is vectorised numpy, and the same seed gives the same bytes.
No value in a sample belongs to a real person.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from cmclaims.errors import ConfigError
from cmclaims.sample import flavour
from cmclaims.sample.calendar import Calendar
from cmclaims.sample.encounters import Encounters, draw_encounters, number_claims, schedule
from cmclaims.sample.output import check_output_path, write_sample_table
from cmclaims.sample.plan import ServicePlan, plan_services
from cmclaims.sample.population import Members, Staff, make_members, make_staff
from cmclaims.sample.problems import (
    apply_problems,
    draw_problems,
    duplicate_claim_ids,
    duplicate_lines,
    over_limit_days,
    swap_staff,
)
from cmclaims.sample.rates import DEFAULT_RATES, ProblemRates
from cmclaims.sample.side_files import (
    authorizations_table,
    enrollment_table,
    followup_stays_table,
    plans_table,
    staff_table,
    stays_table,
)
from cmclaims.sample.stays import Stays, make_stays
from cmclaims.sample.table import export_table
from cmclaims.tables import Profile, load_profile

DEFAULT_PROFILE = "ok-soonercare"
DEFAULT_SEED = 2026

__all__ = ["DEFAULT_PROFILE", "DEFAULT_SEED", "ProblemRates", "SampleData", "generate", "write_sample"]


@dataclass
class SampleData:
    """A generated export and its side files."""

    profile: str
    seed: int
    export: pa.Table
    authorizations: pa.Table
    stays: pa.Table
    staff: pa.Table
    enrollment: pa.Table
    plans: pa.Table


def _lines(rng: np.random.Generator, rows: int, plan: ServicePlan, members: Members, staff: Staff, stays: Stays,
           calendar: Calendar, rates: ProblemRates) -> Encounters:
    """Exactly `rows` lines: ordinary ones, over-limit days, duplicates; scheduled, numbered, with problems."""
    over = round(rows * rates.over_limit_day)
    repeated = round(rows * rates.duplicate_line)
    reused_ids = round(rows * rates.duplicate_claim_id)
    twice = reused_ids // 2 + reused_ids % 2
    base = max(rows - repeated - twice, 1)
    lines = draw_encounters(rng, base, plan, members, staff, stays, calendar)
    draw_problems(rng, lines, plan, rates)
    swap_staff(rng, lines, plan, staff)
    extra, sources = over_limit_days(rng, lines, plan, min(over, base // 2))
    # The extra sessions replace as many ordinary lines, so the export keeps its size.
    is_source = np.zeros(base, dtype=bool)
    is_source[sources] = True
    others = np.flatnonzero(~is_source)
    kept = np.ones(base, dtype=bool)
    kept[rng.choice(others, min(extra.size, others.size), replace=False)] = False
    lines = Encounters.concat([lines.take(kept), extra])
    schedule(rng, lines)
    apply_problems(rng, lines, plan)
    lines = Encounters.concat([lines, duplicate_lines(rng, lines, min(repeated, rows - lines.size))])
    lines = number_claims(rng, lines)
    twice_rows = duplicate_claim_ids(rng, lines, min(reused_ids, max(rows - lines.size, 0) * 2))
    # Each whole copy right after its original, as an EHR exporting a line twice writes it.
    order = np.argsort(np.concatenate([np.arange(lines.size), twice_rows]), kind="stable")
    lines = Encounters.concat([lines, lines.take(twice_rows)]).take(order)
    assert lines.size == rows, (lines.size, rows)
    return lines


def generate(profile: Profile | str, rows: int, seed: int = DEFAULT_SEED,
             rates: ProblemRates = DEFAULT_RATES) -> SampleData:
    """A realistic synthetic export of `rows` lines for `profile`, with its side files."""
    if isinstance(profile, str):
        profile = load_profile(profile)
    if rows < 1:
        raise ConfigError(f"--rows must be 1 or more, not {rows}")
    rng = np.random.default_rng(seed)
    calendar = Calendar.of_period()
    plan = plan_services(profile)
    members = make_members(rng, max(1, round(rows * flavour.MEMBERS_PER_ROW)), plan, calendar, rates)
    staff = make_staff(rng, max(1, round(rows * flavour.STAFF_PER_ROW)), plan, members, calendar)
    stays = make_stays(rng, members, plan, calendar, rates)
    lines = _lines(rng, rows, plan, members, staff, stays, calendar, rates)
    stays_rows = stays_table(stays, members)
    if profile.compliance.followups:  # discharges to follow up, for `cmclaims compliance` (CM811, CM812)
        followups = followup_stays_table(seed, lines, plan, members, stays_rows, calendar)
        stays_rows = pa.concat_tables([stays_rows.append_column(
            "discharge_time", pa.nulls(stays_rows.num_rows, pa.string())), followups])

    return SampleData(
        profile=profile.name,
        seed=seed,
        export=export_table(lines, plan, members, staff),
        authorizations=authorizations_table(rng, lines, plan, members, calendar, rates),
        stays=stays_rows,
        staff=staff_table(staff, seed, calendar),
        enrollment=enrollment_table(seed, members, plan, calendar),
        plans=plans_table(seed, lines, plan, members),
    )


def write_sample(profile: str, rows: int, out: Path, seed: int = DEFAULT_SEED,
                 authorizations: Path | None = None, stays: Path | None = None,
                 staff: Path | None = None, enrollment: Path | None = None,
                 plans: Path | None = None) -> dict[str, int]:
    """Generate and write the export (and the side files asked for); rows written per file name."""
    targets = {"export": out, "authorizations": authorizations, "stays": stays, "staff": staff,
               "enrollment": enrollment, "plans": plans}
    for path in targets.values():
        if path is not None:
            check_output_path(path)
    data = generate(profile, rows, seed)
    written: dict[str, int] = {}
    for name, path in targets.items():
        if path is not None:
            table: pa.Table = getattr(data, name)
            write_sample_table(table, path)
            written[str(path)] = table.num_rows
    return written
