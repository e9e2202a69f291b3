"""The service plan of a sample: which services a profile's agency gives, to whom, by which staff.

Everything the profile says (codes, levels, age bands, settings, credentials,
the children's staffing of Michigan, barred credentials of Arizona) is read
from the profile; `flavour` adds only how common each service is.
Services and staff pools are small tables (a dozen rows): they are built in
plain Python once, and the lines then index them with integer arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmclaims.sample import flavour
from cmclaims.tables import Profile, Service

ALL_AGES = (0, 120)
# Codes and modifiers other EHR templates put on lines, which cmclaims does not know.
OTHER_CODES = ("H0031", "90832")
OTHER_MODIFIERS = ("U1",)


@dataclass(frozen=True)
class StaffPool:
    """Staff who give the same services: their credentials, trainings and ages."""

    name: str
    credential_sets: tuple[tuple[str, ...], ...]  # each staff member holds one set; the first is most common
    trainings: tuple[str, ...]  # trainings every member of the pool has (a few lack one)
    ages: tuple[int, int]  # staff ages on the first day of the period
    ages_required: bool  # the profile checks staff ages for a service of this pool


@dataclass(frozen=True)
class ServicePlan:
    """The profile's services with who receives them, and the staff pools that give them."""

    profile: Profile
    services: tuple[Service, ...]
    weights: np.ndarray  # per service: how often it is a member's main service
    member_ages: tuple[tuple[int, int], ...]  # per service: member ages it is given to
    populations: tuple[tuple[str, ...], ...]  # per service: populations it is given to (empty: any)
    settings: tuple[tuple[str, ...], ...]  # per service: where the member must live (empty: anywhere usual)
    codes: tuple[str, ...]  # the profile's codes first, then codes it does not pay; lines index this
    service_code: np.ndarray  # per service: index into `codes`
    unpaid_codes: np.ndarray  # indices into `codes` of codes the profile does not pay
    programs: tuple[str, ...]  # every program a service names
    service_programs: tuple[tuple[int, ...], ...]  # per service: indices into `programs`
    modifiers: tuple[str, ...]  # every modifier a line may carry; lines hold indices into this
    foreign_modifiers: tuple[tuple[int, ...], ...]  # per service: modifiers the payer does not use with its code
    first_modifiers: tuple[tuple[int, ...], ...]  # per service: the code's first-modifier choices
    level_modifier: np.ndarray  # per service: index of its level modifier, -1 for none
    pools: tuple[StaffPool, ...]
    pool_of_service: np.ndarray  # per service: the pool that gives it
    child_pools: dict[str, int]  # population -> pool that must serve children of it (Michigan)
    child_service: np.ndarray  # per service: children's staffing applies to it
    child_max_age: int
    barred_pool: int  # a pool of staff the payer does not pay for (-1: none)
    qualifies: np.ndarray  # (pool, service): the pool's staff may give the service

    @property
    def setting_only(self) -> tuple[str, ...]:
        """Settings whose residents may receive only the services naming them (Michigan nursing facilities)."""
        return tuple(self.profile.eligibility.setting_only_services)


def _credentials_for(service: Service) -> tuple[str, ...]:
    if service.credentials:
        return service.credentials
    return flavour.CREDENTIALS_BY_SERVICE.get(service.key, flavour.CREDENTIALS_BY_SERVICE.get(
        service.hcpcs, flavour.DEFAULT_CREDENTIALS))


def _member_ages(service: Service) -> tuple[int, int]:
    low, high = service.ages or ALL_AGES
    audience = flavour.AUDIENCES.get(service.key)
    if audience is not None and audience.ages is not None:
        low, high = max(low, audience.ages[0]), min(high, audience.ages[1])
    return low, min(high, ALL_AGES[1])


def _common_credential(services: list[Service]) -> str:
    """A credential that qualifies for every one of `services` (the first such, in the profile's order)."""
    for service in services:
        for credential in service.credentials:
            if all(credential in s.credentials for s in services if s.credentials):
                return credential
    return flavour.DEFAULT_CREDENTIALS[0]


def _pools(profile: Profile) -> tuple[list[StaffPool], list[int], dict[str, int], int]:
    """One pool per service; Michigan's children's pools; a pool of barred staff."""
    pools: list[StaffPool] = []
    pool_of_service: list[int] = []
    for service in profile.services:
        credentials = _credentials_for(service)
        pools.append(
            StaffPool(
                name=service.key,
                credential_sets=tuple((c,) for c in credentials),
                trainings=(),
                ages=service.staff_ages or flavour.STAFF_AGES,
                ages_required=service.staff_ages is not None,
            )
        )
        pool_of_service.append(len(pools) - 1)
    child_pools: dict[str, int] = {}
    children = profile.staff.children
    if children is not None:
        # A CMHP who also holds the codes' own credential, trained for every age band.
        codes_credential = _common_credential([s for s in profile.services if s.hcpcs in children.codes])
        pools.append(
            StaffPool(
                name="children:SED",
                credential_sets=((codes_credential, children.sed_credential),),
                trainings=tuple(t for _, _, t in children.sed_trainings),
                ages=flavour.STAFF_AGES,
                ages_required=False,
            )
        )
        child_pools["SED"] = len(pools) - 1
        pools.append(StaffPool("children:IDD", ((children.idd_credential,),), (), flavour.STAFF_AGES, False))
        child_pools["IDD"] = len(pools) - 1
    barred_pool = -1
    if profile.staff.barred_credentials:
        pools.append(
            StaffPool("barred", tuple((c,) for c in profile.staff.barred_credentials), (), flavour.STAFF_AGES, False)
        )
        barred_pool = len(pools) - 1
    return pools, pool_of_service, child_pools, barred_pool


def _qualifies(pools: list[StaffPool], services: tuple[Service, ...], barred: tuple[str, ...]) -> np.ndarray:
    table = np.zeros((len(pools), len(services)), dtype=bool)
    for p, pool in enumerate(pools):
        held = {c for credentials in pool.credential_sets for c in credentials}
        for s, service in enumerate(services):
            needed = set(service.credentials)
            table[p, s] = (not needed or bool(held & needed)) and not (held & set(barred))
    return table


def plan_services(profile: Profile) -> ServicePlan:
    """The plan of `profile`'s sample."""
    services = profile.services
    weights_by_key = flavour.SERVICE_WEIGHTS.get(profile.name, {})
    weights = np.array([weights_by_key.get(s.key, 1.0) for s in services], dtype=np.float64)
    modifiers = (*sorted(profile.catalog.modifiers), *OTHER_MODIFIERS)
    index = {m: i for i, m in enumerate(modifiers)}
    paid = tuple(profile.codes)
    codes = (*paid, *sorted(c for c in profile.catalog.codes if c not in profile.codes), *OTHER_CODES)
    programs = tuple(sorted({p for s in services for p in s.programs}))
    pools, pool_of_service, child_pools, barred_pool = _pools(profile)
    children = profile.staff.children
    return ServicePlan(
        profile=profile,
        services=services,
        weights=weights / weights.sum(),
        member_ages=tuple(_member_ages(s) for s in services),
        populations=tuple(
            a.populations if (a := flavour.AUDIENCES.get(s.key)) is not None else () for s in services
        ),
        settings=tuple(s.settings for s in services),
        codes=codes,
        service_code=np.array([codes.index(s.hcpcs) for s in services], dtype=np.int16),
        unpaid_codes=np.arange(len(paid), len(codes), dtype=np.int16),
        programs=programs,
        service_programs=tuple(tuple(programs.index(p) for p in s.programs) for s in services),
        modifiers=modifiers,
        foreign_modifiers=tuple(
            tuple(i for i, m in enumerate(modifiers) if m not in profile.codes[s.hcpcs].allowed_modifiers)
            for s in services
        ),
        first_modifiers=tuple(tuple(index[m] for m in profile.codes[s.hcpcs].first_modifier) for s in services),
        level_modifier=np.array([index[s.level] if s.level else -1 for s in services], dtype=np.int16),
        pools=tuple(pools),
        pool_of_service=np.array(pool_of_service, dtype=np.int16),
        child_pools=child_pools,
        child_service=np.array([children is not None and s.hcpcs in children.codes for s in services]),
        child_max_age=children.max_age if children is not None else -1,
        barred_pool=barred_pool,
        qualifies=_qualifies(pools, services, profile.staff.barred_credentials),
    )
