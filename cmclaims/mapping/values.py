"""What an export's own spellings of a coded column mean in our vocabulary.

For each distinct spelling outside the vocabulary: a spelling exports are
known to use ("F2F", "Phone", "Signed": code_tables/spellings.toml) is mapped;
one very close to a known spelling or a vocabulary word ("Face-to-Face ",
"Telehealh") is mapped with its score in a comment; anything else is left as a
question. Similarity never crosses a negation: "Not Signed" is never "Signed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from cmclaims.mapping.spellings import plain

CLOSE_ENOUGH = 90.0  # a typo or a stray word, not a different meaning
MOST_DISTINCT = 60  # more distinct values than this: free text, not a coded column
_NEGATION = re.compile(r"\b(not|no|non|without|never|un(?:signed|finalized|finished|locked|approved))\b")
_LEADING_CODE = re.compile(r"^\s*(\d{1,2})\b")  # "11 - Office", "2 Telehealth"


@dataclass
class ValueProposal:
    """One distinct spelling of the export: what it means (None: a question), and why."""

    spelling: str
    lines: int
    ours: str | None
    how: str  # "known spelling", "similar to 'X' (93)", or why it is a question


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def understood_as_is(column: str, folded: str, vocabulary: tuple[str, ...]) -> bool:
    """Whether validate already reads this (cleaned) value without a map."""
    if column in ("member_present", "note_signed"):
        return folded.upper() in {"Y", "N", "YES", "NO", "TRUE", "FALSE", "T", "F", "1", "0"}
    if column == "place_of_service":
        return bool(re.fullmatch(r"\d{1,2}", folded))
    if column == "claim_frequency":
        return folded.isdigit() and (folded.lstrip("0") or "0") in vocabulary
    return folded.upper() in {v.upper() for v in vocabulary}


def propose_value(
    column: str, spelling: str, lines: int, vocabulary: tuple[str, ...], known: dict[str, str]
) -> ValueProposal:
    """What `spelling` of `column` means, as far as cmclaims can tell."""
    words = plain(spelling)
    if words in known:
        return ValueProposal(spelling, lines, known[words], "known spelling")
    by_word = {plain(v): v for v in vocabulary}
    if words in by_word:
        return ValueProposal(spelling, lines, by_word[words], "our value, spelled differently")
    if column == "place_of_service" and (code := _LEADING_CODE.match(spelling)):
        return ValueProposal(spelling, lines, code.group(1).zfill(2), "the code it starts with")
    candidates = {**known, **by_word}
    if len(words) >= 4 and candidates:
        choice = process.extractOne(words, list(candidates), scorer=fuzz.ratio, score_cutoff=CLOSE_ENOUGH)
        if choice is not None and _negated(words) == _negated(choice[0]):
            return ValueProposal(spelling, lines, candidates[choice[0]], f"similar to '{choice[0]}' ({choice[1]:.0f})")
    return ValueProposal(spelling, lines, None, "cmclaims cannot tell")
