"""The people of a sample: members (of every age) and the staff who serve them.

Members and staff are a few hundred thousand rows at most; they are drawn as
numpy arrays, and each line later points at its member and staff member by
index. Their text (ids, credentials) is built once per person, not per line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmclaims.sample import flavour
from cmclaims.sample.calendar import Calendar
from cmclaims.sample.plan import ServicePlan
from cmclaims.sample.rates import ProblemRates

DAYS_PER_YEAR = 365.25
# Where members live that is no institution (institutions, jail and detention come from stays).
RESIDENCES = ("group_home", "foster_home")
MIN_HEAVY_MEMBERS = 3  # enough for a small sample to reach its monthly limits and annual cap
STAFF_LACKING_TRAINING_SHARE = 0.05  # of a pool: have not completed one of the pool's trainings
STAFF_OVER_AGE_SHARE = 0.08  # of a pool with an age band (Michigan youth peers): past it


@dataclass
class Members:
    """One row per member; `setting`, `population` and `enrollment` index their vocabularies."""

    number: np.ndarray  # int64, the digits of the member id
    birth_day: np.ndarray  # int32 day number
    age: np.ndarray  # int16, whole years on the first day of the period
    population: np.ndarray  # int8 into `populations`
    setting: np.ndarray  # int8 into `settings`: where the member lives when not in a stay
    enrollment: np.ndarray  # int8 into `enrollments`
    first_modifier: np.ndarray  # int8: position in the code's first-modifier list
    staff_seed: np.ndarray  # int64: picks the member's own case manager in each pool
    weight: np.ndarray  # float64, sums to 1: the member's share of the lines
    heavy: np.ndarray  # bool: many lines, with a busy month
    busy_month: np.ndarray  # int32: first day of the busy month (heavy members)
    primary_service: np.ndarray  # int16 into plan.services
    secondary_service: np.ndarray  # int16
    populations: tuple[str, ...]
    settings: tuple[str, ...]
    enrollments: tuple[str, ...]

    @property
    def count(self) -> int:
        """Number of rows."""
        return int(self.number.size)


@dataclass
class Staff:
    """One row per staff member, grouped by pool (pool p holds rows start[p] to start[p] + size[p])."""

    number: np.ndarray  # int64, the digits of the staff id
    pool: np.ndarray  # int16 into plan.pools
    start: np.ndarray  # per pool: first row
    size: np.ndarray  # per pool: number of rows
    credentials: list[str]  # per staff member, `;`-separated
    trainings: list[str]  # per staff member, `;`-separated
    birth_day: np.ndarray  # int32 day number
    soar_trained: np.ndarray  # bool

    @property
    def count(self) -> int:
        """Number of rows."""
        return int(self.number.size)


def a_share(rng: np.random.Generator, among: np.ndarray, share: float, at_least: int = 1) -> np.ndarray:
    """Exactly `share` of the rows where `among` holds (at least `at_least` of them), chosen at random.

    Exact counts, not one coin per row: a 2,000-line demo sample of 80 members
    still has its heavy member, its barred one and its stays.
    """
    candidates = np.flatnonzero(among)
    count = min(candidates.size, max(at_least, round(share * candidates.size))) if share > 0 else 0
    chosen = np.zeros(among.size, dtype=bool)
    chosen[rng.choice(candidates, count, replace=False)] = True
    return chosen


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Children 0-17, young adults and adults up to about 85, in realistic proportions."""
    child = rng.random(n) < flavour.CHILD_SHARE
    child_age = np.where(rng.random(n) < 0.1, rng.integers(0, 4, n), rng.integers(4, 18, n))
    adult_age = np.clip(rng.triangular(18, 38, 86, n), 18, 85).astype(np.int64)
    return np.where(child, child_age, adult_age).astype(np.int16)


def _pick(rng: np.random.Generator, shares: dict[str, float], vocabulary: tuple[str, ...], n: int) -> np.ndarray:
    names = list(shares)
    weights = np.array([shares[k] for k in names])
    chosen = rng.choice(len(names), n, p=weights / weights.sum())
    return np.array([vocabulary.index(k) for k in names], dtype=np.int8)[chosen]


def _choose_services(rng: np.random.Generator, eligible: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One service per row among its eligible ones, by weight (any service when none is eligible)."""
    w = eligible * weights
    w[w.sum(axis=1) == 0] = weights
    cumulative = np.cumsum(w, axis=1)
    u = rng.random(len(w)) * cumulative[:, -1]
    return np.minimum((cumulative <= u[:, None]).sum(axis=1), len(weights) - 1).astype(np.int16)


def _eligibility(plan: ServicePlan, members: Members, ignore_setting: np.ndarray) -> np.ndarray:
    """(member, service): the agency would give this service to this member."""
    settings = members.settings
    only = [settings.index(s) for s in plan.setting_only]
    eligible = np.ones((members.count, len(plan.services)), dtype=bool)
    for s, (low, high) in enumerate(plan.member_ages):
        eligible[:, s] &= (members.age >= low) & (members.age <= high)
        if plan.populations[s]:
            codes = [members.populations.index(p) for p in plan.populations[s]]
            eligible[:, s] &= np.isin(members.population, codes)
        if plan.settings[s]:
            wanted = [settings.index(x) for x in plan.settings[s]]
            eligible[:, s] &= np.isin(members.setting, wanted)
        elif only:
            eligible[:, s] &= ~np.isin(members.setting, only) | ignore_setting
    return eligible


def make_members(rng: np.random.Generator, n: int, plan: ServicePlan, calendar: Calendar,
                 rates: ProblemRates) -> Members:
    """`n` members of every age; a few live where, or are enrolled how, the payer does not pay."""
    profile = plan.profile
    catalog = profile.catalog
    populations = catalog.vocabulary("population")
    settings = catalog.vocabulary("setting")
    age = _ages(rng, n)
    start_day = calendar.first
    birth_day = (start_day - age * DAYS_PER_YEAR - rng.random(n) * DAYS_PER_YEAR).astype(np.int32)
    child = age < 18
    population = np.where(
        child,
        _pick(rng, flavour.CHILD_POPULATIONS, populations, n),
        _pick(rng, flavour.ADULT_POPULATIONS, populations, n),
    ).astype(np.int8)

    setting = np.full(n, settings.index("community"), dtype=np.int8)
    setting[rng.random(n) < flavour.SHELTER_SHARE] = settings.index("shelter")
    barred = a_share(rng, np.ones(n, dtype=bool), rates.barred_member)
    ignore_setting = np.zeros(n, dtype=bool)
    for only in plan.setting_only:  # Michigan: older members in nursing facilities get their own service
        resident = (age >= 60) & (rng.random(n) < flavour.NURSING_FACILITY_SHARE)
        setting[resident | barred] = settings.index(only)
        ignore_setting |= barred  # ... and the barred ones get the ordinary services they may not
    residences = [s for s in RESIDENCES if s in profile.eligibility.barred_settings]
    if residences:
        foster = "foster_home" if "foster_home" in residences else residences[0]
        setting[barred & child] = settings.index(foster)
        setting[barred & ~child] = settings.index(residences[0])

    enrollments = flavour.ENROLLMENTS.get(profile.name, flavour.DEFAULT_ENROLLMENTS)
    enrollment = rng.integers(0, len(enrollments), n).astype(np.int8)
    if profile.name not in flavour.ENROLLMENTS:
        enrollments = (*enrollments, flavour.CHILD_ENROLLMENT)
        enrollment[child & (rng.random(n) < 0.3)] = len(enrollments) - 1
    if profile.eligibility.barred_enrollments:
        barred_names = profile.eligibility.barred_enrollments
        enrollment[barred] = len(enrollments) + rng.integers(0, len(barred_names), int(barred.sum()))
        enrollments = (*enrollments, *barred_names)

    heavy = a_share(rng, np.ones(n, dtype=bool), rates.heavy_member, at_least=MIN_HEAVY_MEMBERS)
    # Most members 5-60 lines a year; heavy ones 3-6 times the average, never hundreds.
    weight = np.where(heavy, 2.0 * rng.uniform(3.0, 6.0, n), np.clip(rng.gamma(2.0, 1.0, n), 0.2, 5.0))
    caps = profile.annual_caps
    if caps:  # heavy members of a capped profile bill from a little under to well over the cap
        lines_wanted = min(c.units for c in caps) * rng.uniform(0.9, 1.8, n) / flavour.UNITS_PER_LINE
        weight = np.where(heavy, 2.0 * lines_wanted / flavour.LINES_PER_MEMBER, weight)  # 2.0: the gamma's mean
    month_firsts = _month_firsts(calendar)
    busy_month = month_firsts[rng.integers(0, len(month_firsts), n)]

    members = Members(
        number=1_000_000 + rng.choice(8_999_999, n, replace=False).astype(np.int64),
        birth_day=birth_day,
        age=age,
        population=population,
        setting=setting,
        enrollment=enrollment,
        first_modifier=rng.choice(
            len(flavour.FIRST_MODIFIER_WEIGHTS), n, p=np.array(flavour.FIRST_MODIFIER_WEIGHTS)
        ).astype(np.int8),
        staff_seed=rng.integers(0, 1 << 30, n),
        weight=weight / weight.sum(),
        heavy=heavy,
        busy_month=busy_month,
        primary_service=np.zeros(n, np.int16),
        secondary_service=np.zeros(n, np.int16),
        populations=populations,
        settings=settings,
        enrollments=enrollments,
    )
    eligible = _eligibility(plan, members, ignore_setting)
    # A few children are put on a service for adults only (Oklahoma TG, PACT): an age finding.
    adults_only = np.array([s.ages is not None and s.ages[0] >= 18 for s in plan.services])
    if adults_only.any():
        misplaced = a_share(rng, child, rates.child_on_adult_service)
        eligible[misplaced] = adults_only
    members.primary_service = _choose_services(rng, eligible, plan.weights)
    # A second service is another code (Michigan: peer support beside case management), never a
    # second level of the same code: an Oklahoma member has one level of case management.
    other_code = plan.service_code[None, :] != plan.service_code[members.primary_service][:, None]
    secondary = _choose_services(rng, eligible & other_code, plan.weights)
    members.secondary_service = np.where((eligible & other_code).any(axis=1), secondary, members.primary_service)
    return members


def _month_firsts(calendar: Calendar) -> np.ndarray:
    days = np.arange(calendar.first, calendar.last + 1).astype("datetime64[D]")
    firsts = np.unique(days.astype("datetime64[M]")).astype("datetime64[D]").astype(np.int64)
    return firsts.astype(np.int32)


def _session_minutes(plan: ServicePlan) -> np.ndarray:
    """Per service: a session's usual length, so pools are staffed for their hours, not their lines."""
    minutes = []
    for service in plan.services:
        unit = plan.profile.codes[service.hcpcs].code.unit_minutes or 0
        low, high = (flavour.HOURLY_SESSION_RANGE if unit == 60 else flavour.PER_DIEM_SESSION_RANGE if unit == 0
                     else (flavour.SESSION_MEDIAN_MINUTES, flavour.SESSION_MEDIAN_MINUTES))
        minutes.append((low + high) / 2 + sum(flavour.GAP_MINUTES) / 2)
    return np.array(minutes)


def _pool_sizes(plan: ServicePlan, members: Members, n_staff: int) -> np.ndarray:
    """Staff per pool, in proportion to the hours each pool will work (at least two; barred ones few)."""
    load = np.zeros(len(plan.pools))
    child = members.age <= plan.child_max_age
    minutes = _session_minutes(plan)
    for service, share in ((members.primary_service, flavour.PRIMARY_SERVICE_SHARE),
                           (members.secondary_service, 1 - flavour.PRIMARY_SERVICE_SHARE)):
        pool = plan.pool_of_service[service].astype(np.int64)
        for population, child_pool in plan.child_pools.items():
            served = child & plan.child_service[service] & (
                members.population == members.populations.index(population))
            pool = np.where(served, child_pool, pool)
        np.add.at(load, pool, share * members.weight * minutes[service])
    sizes = np.maximum(np.round(load / load.sum() * n_staff), 2).astype(np.int64)
    if plan.barred_pool >= 0:
        sizes[plan.barred_pool] = max(1, n_staff // 100)
    return sizes


def _a_few(rng: np.random.Generator, size: int, share: float) -> np.ndarray:
    """`share` of a pool of `size`, rounded down: a pool of two never has its only specialist unfit."""
    return rng.choice(size, int(size * share), replace=False)


def make_staff(rng: np.random.Generator, n_staff: int, plan: ServicePlan, members: Members,
               calendar: Calendar) -> Staff:
    """Staff in pools sized to their work; credentials, trainings and ages mostly fit the services."""
    sizes = _pool_sizes(plan, members, n_staff)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    total = int(sizes.sum())
    pool = np.repeat(np.arange(len(sizes)), sizes).astype(np.int16)
    soar = plan.profile.activities.soar
    soar_trained = (rng.random(total) < flavour.SOAR_TRAINED_SHARE) if soar is not None else np.zeros(total, bool)
    set_pick = rng.random(total)
    lacks_training = np.zeros(total, dtype=bool)
    age = np.zeros(total, dtype=np.float64)
    credentials: list[str] = []
    trainings: list[str] = []
    for p, staff_pool in enumerate(plan.pools):
        rows = slice(int(start[p]), int(start[p] + sizes[p]))
        low, high = staff_pool.ages
        ages = rng.uniform(low, high + 1, int(sizes[p]))
        if staff_pool.ages_required:  # a few are past the age the service allows
            older = _a_few(rng, ages.size, STAFF_OVER_AGE_SHARE)
            ages[older] = high + 1 + rng.uniform(0, 4, older.size)
        age[rows] = ages
        lacks_training[rows.start + _a_few(rng, ages.size, STAFF_LACKING_TRAINING_SHARE)] = True
        sets = staff_pool.credential_sets
        for i in range(rows.start, rows.stop):
            # The first credential set is the usual one (Oklahoma TF: CM2 before WRAP_FACILITATOR).
            other = 1 + int(set_pick[i] * 97) % max(len(sets) - 1, 1)
            chosen = sets[0] if len(sets) == 1 or set_pick[i] < 0.7 else sets[other]
            credentials.append(";".join(chosen))
            held = list(staff_pool.trainings)
            if held and lacks_training[i]:
                held.pop(int(set_pick[i] * 1000) % len(held))
            if soar_trained[i] and soar is not None:
                held.append(soar.training)
            trainings.append(";".join(held))
    birth_day = (calendar.first - age * DAYS_PER_YEAR).astype(np.int32)
    return Staff(
        number=100_000 + rng.choice(899_999, total, replace=False).astype(np.int64),
        pool=pool,
        start=start,
        size=sizes,
        credentials=credentials,
        trainings=trainings,
        birth_day=birth_day,
        soar_trained=soar_trained,
    )
