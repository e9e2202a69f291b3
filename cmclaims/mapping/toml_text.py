"""A Proposal written as the column map `validate --column-map` reads, with its reasons as comments.

Lines cmclaims is sure of are plain TOML; a header it only guessed and a
spelling it cannot tell are commented out (`# ?`), so the file is valid and
means nothing it was not sure of until the clerk answers them.
"""

from __future__ import annotations

import datetime as dt

from cmclaims.mapping.headers import HeaderMatch
from cmclaims.mapping.proposal import ColumnValues, Proposal
from cmclaims.schema.columns import ENCOUNTER


def quoted(text: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _considered(match: HeaderMatch) -> str:
    others = [(h, score) for h, score in match.considered if h != match.header]
    if not others:
        return "no other header looks like it" if match.header else "no header looks like it"
    listed = ", ".join(f"{quoted(h)} {score:.0f}" for h, score in others)
    return f"also considered {listed}" if match.header else f"closest: {listed}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _header_lines(proposal: Proposal) -> list[str]:
    lines = ["[columns]", "# our column = \"your export's header\""]
    absent: list[str] = []
    for column, match in proposal.matches.items():
        required = column in ENCOUNTER.required
        if match.header is not None and match.sure and match.note:
            lines.append(f"{column} = {quoted(match.header)}  # {match.note}")
        elif match.header is not None and match.sure:
            lines.append(f"{column} = {quoted(match.header)}  # {_considered(match)}")
        elif match.header is not None:
            lines.append(
                f"# ? {column} = {quoted(match.header)}  # a guess (similarity {match.score:.0f}), confirm it; "
                + _considered(match)
            )
        elif required and (stand_in := proposal.stood_in(column)) is not None:
            lines.append(f"# {column}: not in the export; {stand_in} stands in for it (end = start + duration)")
        elif required:
            lines.append(f"# ? {column} = \"\"  # REQUIRED and not found: {_considered(match)}")
        elif column in proposal.needed_by_rules:
            codes = ", ".join(proposal.needed_by_rules[column])
            lines.append(f"# ? {column} = \"\"  # not found; the {proposal.profile} rules {codes} read it")
        else:
            absent.append(column)
    if absent:
        lines.append("# not in this export (optional): " + ", ".join(absent))
    unused = proposal.unused_headers
    if unused:
        lines.append("# headers no column of ours takes: " + ", ".join(quoted(h) for h in unused))
    return lines


def _value_lines(values: ColumnValues, vocabulary: tuple[str, ...]) -> list[str]:
    lines = ["", f"[values.{values.column}]"]
    if values.free_text:
        lines.append(
            f"# {quoted(values.header)} has {values.distinct:,} distinct values: too many for {values.column}; "
            "is it the right header?"
        )
        return lines
    choices = ", ".join(vocabulary) if vocabulary else "a two-digit CMS place of service code"
    lines.append(f"# {quoted(values.header)}: {_plural(values.distinct, 'distinct value')}; ours are {choices}")
    if not values.proposals:
        lines.append("# every value is already one of ours")
    for p in values.proposals:
        count = _plural(p.lines, "line")
        if p.ours is not None:
            lines.append(f"{quoted(p.spelling)} = {quoted(p.ours)}  # {count}, {p.how}")
        else:
            lines.append(f"# ? {quoted(p.spelling)} = \"\"  # {count}: {p.how}; which of ours is it?")
    return lines


def render(proposal: Proposal, map_name: str, today: dt.date) -> str:
    """The whole map file."""
    exports = "\n".join(f"#   {name} ({lines:,} lines)" for name, lines in proposal.exports)
    profile = proposal.profile or "NAME"
    head = [
        f"# cmclaims column map, proposed by `cmclaims map` on {today.isoformat()} from:",
        exports,
        "# Review it once. Lines starting `# ?` are guesses or questions: to answer one, remove",
        "# the `# ? ` in front and fill in or correct the value (or leave it commented out).",
        "# Then pass this file every night:",
        f"#   cmclaims validate EXPORT --profile {profile} --out DIR --column-map {map_name}",
        "# validate reports any header or spelling named here that an export does not have.",
        "",
    ]
    body = _header_lines(proposal)
    for values in proposal.values:
        body.extend(_value_lines(values, proposal.vocabularies.get(values.column, ())))
    return "\n".join([*head, *body]) + "\n"
