"""Which service each line bills: its code, its modifiers, and the service they name.

Lines repeat a few hundred combinations of code and modifiers, so each distinct
combination is resolved once, in Python, and the answer spread to its lines.
A combination that cannot be resolved carries the reason, in a clerk's words,
for the CM0 rules to report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmclaims.normalize.lines import Lines
from cmclaims.schema.columns import MODIFIER_COLUMNS
from cmclaims.tables import Profile

# What kept a combination from resolving, in the order the CM0 rules report them.
OK, UNKNOWN_CODE, BAD_MODIFIER, NO_SERVICE = 0, 1, 2, 3


@dataclass
class Services:
    """Per line: the profile code and service it bills (-1 when unresolved), and why not.

    Text is kept per distinct combination (`combo`), not per line.
    """

    combo: np.ndarray  # per line: index of its code-and-modifiers combination
    code_index: np.ndarray  # per line: index into `codes`
    service_index: np.ndarray  # per line: index into profile.services
    problem: np.ndarray  # per line: OK, UNKNOWN_CODE, BAD_MODIFIER or NO_SERVICE
    combo_reason: np.ndarray  # per combination: why it did not resolve ("" when it did)
    combo_modifiers: np.ndarray  # per combination: the modifiers as a claim shows them ("HE TF")
    combo_group: np.ndarray  # per combination: a group service (a group modifier such as HQ)
    codes: tuple[str, ...]  # the profile's codes, in code_index order

    def group(self, rows: np.ndarray) -> np.ndarray:
        """Lines billed as a group service (one staff member, several members at once)."""
        return self.combo_group[self.combo[rows]]

    def reason(self, rows: np.ndarray) -> np.ndarray:
        """Why each of `rows` did not resolve to a service, in a clerk's words."""
        return self.combo_reason[self.combo[rows]]

    def modifiers(self, rows: np.ndarray) -> np.ndarray:
        """The modifiers of each of `rows` as a claim shows them."""
        return self.combo_modifiers[self.combo[rows]]

    def code_of(self, codes: tuple[str, ...] | list[str]) -> np.ndarray:
        """Lines billing one of `codes`, at any level."""
        wanted = [i for i, c in enumerate(self.codes) if c in codes]
        return np.isin(self.code_index, wanted)


def _resolve(hcpcs: str | None, modifiers: list[str], profile: Profile) -> tuple[int, int, int, str]:
    """(code index, service index, problem, reason) for one combination."""
    codes = list(profile.codes)
    if hcpcs is None:
        return -1, -1, UNKNOWN_CODE, ""  # the missing value itself is CM002's finding
    if hcpcs not in profile.codes:
        known = "known to cmclaims" if hcpcs in profile.catalog.codes else "not a code cmclaims knows"
        return -1, -1, UNKNOWN_CODE, f"{hcpcs} is not a code {profile.name} pays ({known})"
    code = profile.codes[hcpcs]
    code_index = codes.index(hcpcs)
    for modifier in modifiers:
        if modifier not in profile.catalog.modifiers:
            return code_index, -1, BAD_MODIFIER, f"{modifier} is not a modifier cmclaims knows"
        if modifier not in code.allowed_modifiers:
            allowed = ", ".join(code.allowed_modifiers) or "none"
            return code_index, -1, BAD_MODIFIER, (
                f"{modifier} is not a modifier {profile.name} uses with {hcpcs} (it uses: {allowed})"
            )
    if code.first_modifier and (not modifiers or modifiers[0] not in code.first_modifier):
        return code_index, -1, NO_SERVICE, (
            f"{hcpcs} needs {', '.join(code.first_modifier[:-1])} or {code.first_modifier[-1]} as its first modifier"
        )
    levels = [m for m in modifiers if m in code.levels]
    if len(set(levels)) > 1:
        return code_index, -1, NO_SERVICE, f"{hcpcs} has two level modifiers ({' and '.join(levels)}); keep one"
    level = levels[0] if levels else ""
    for index, service in enumerate(profile.services):
        if service.hcpcs == hcpcs and service.level == level:
            return code_index, index, OK, ""
    wanted = ", ".join(s.level or "none" for s in profile.services if s.hcpcs == hcpcs)
    return code_index, -1, NO_SERVICE, (
        f"{hcpcs} {'without a level modifier' if not level else 'with ' + level} is not a service of "
        f"{profile.name} (level modifiers: {wanted})"
    )


def resolve_services(lines: Lines, profile: Profile) -> Services:
    """Resolve every line's service through its distinct code-and-modifier combinations."""
    columns = ["hcpcs", *MODIFIER_COLUMNS]
    key = np.zeros(lines.size, dtype=np.int64)
    for column in columns:  # one integer per combination: mixed-radix digits of the codes
        key = key * (len(lines.text[column].values) + 1) + lines.text[column].codes + 1
    combo, _ = pd.factorize(key)
    _, first_lines = np.unique(combo, return_index=True)
    values = {c: lines.text[c].values.to_pylist() for c in columns}

    def text_of(column: str, line: int) -> str | None:
        code = lines.text[column].codes[line]
        return values[column][code] if code >= 0 else None

    resolved, shown, group = [], [], []
    for line in first_lines.tolist():
        modifiers = [m for c in MODIFIER_COLUMNS if (m := text_of(c, line)) is not None]
        resolved.append(_resolve(text_of("hcpcs", line), modifiers, profile))
        shown.append(" ".join(modifiers))
        group.append(any(m in profile.catalog.group_modifiers for m in modifiers))
    numbers = np.array([r[:3] for r in resolved], dtype=np.int64).reshape(-1, 3)
    return Services(
        combo=combo.astype(np.int32),
        code_index=numbers[combo, 0].astype(np.int16),
        service_index=numbers[combo, 1].astype(np.int16),
        problem=numbers[combo, 2].astype(np.int8),
        combo_reason=np.array([r[3] for r in resolved], dtype=object),
        combo_modifiers=np.array(shown, dtype=object),
        combo_group=np.array(group, dtype=bool),
        codes=tuple(profile.codes),
    )
