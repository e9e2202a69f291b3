"""Which header of an export is which of our columns: known spellings first, then name similarity.

Each of our columns is scored against each header: 100 when the header is our
name or a spelling exports are known to use (code_tables/spellings.toml),
otherwise rapidfuzz's token-sort ratio against those names (word order does
not matter: "Date of Service" and "Service Date"). Pairs are taken best first,
each header and each column once. A pair at or above ACCEPT is proposed as it
is; one at or above SUGGEST is written as a commented line for the clerk to
confirm; below that the column is reported as not found. Every column keeps
the few headers it considered, for the comments of the map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from cmclaims.mapping.spellings import Spellings, plain

ACCEPT = 92.0  # similar enough to propose without asking; "Progress Note" scores 90 against "progress note id"
SUGGEST = 75.0  # worth a question ("Client" for member_id, 80); short words score 65-73 by chance ("Status", "start")
CONSIDERED = 3  # headers kept per column for the map's comments


@dataclass
class HeaderMatch:
    """One of our columns: the header proposed for it (if any), how sure, and what else was considered."""

    column: str
    header: str | None = None
    score: float = 0.0
    sure: bool = False
    considered: list[tuple[str, float]] = field(default_factory=list)
    note: str = ""  # why, when it is not the name that decided


def _scores(headers: list[str], columns: list[str], spellings: Spellings) -> np.ndarray:
    """scores[i, j]: how much header i looks like column j (0-100)."""
    names: list[str] = []
    owner: list[int] = []
    for j, column in enumerate(columns):
        for name in spellings.headers[column]:
            names.append(name)
            owner.append(j)
    plain_headers = [plain(h) for h in headers]
    by_name = process.cdist(plain_headers, names, scorer=fuzz.token_sort_ratio, workers=1)
    scores = np.zeros((len(headers), len(columns)), dtype=np.float64)
    np.maximum.at(scores.T, np.array(owner), by_name.T.astype(np.float64))
    return scores


def match_headers(headers: list[str], columns: list[str], spellings: Spellings) -> dict[str, HeaderMatch]:
    """For each of `columns`, the export header proposed for it and the others it considered."""
    matches = {column: HeaderMatch(column) for column in columns}
    if not headers:
        return matches
    scores = _scores(headers, columns, spellings)
    for j, column in enumerate(columns):
        best = np.argsort(-scores[:, j], kind="stable")[:CONSIDERED]
        matches[column].considered = [(headers[i], round(float(scores[i, j]), 1)) for i in best if scores[i, j] > 0]
    # Best pairs first; on a tie the column listed first (required columns come first) wins.
    order = sorted(
        ((scores[i, j], j, i) for i in range(len(headers)) for j in range(len(columns)) if scores[i, j] >= SUGGEST),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    used_headers: set[int] = set()
    for score, j, i in order:
        match = matches[columns[j]]
        if match.header is not None or i in used_headers:
            continue
        used_headers.add(i)
        match.header, match.score, match.sure = headers[i], round(float(score), 1), score >= ACCEPT
    return matches
