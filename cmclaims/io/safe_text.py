"""Text from an input made safe for where it goes: a terminal, or a spreadsheet cell (SPEC section 3).

A value in an export (a staff id, a program, a file name) can hold control
characters. Printed raw, ESC sequences clear the clerk's screen, set the
window title or hide text; a carriage return overwrites what was printed.
`printable` replaces every C0 and C1 control character, DEL, and the Unicode
controls that reorder text on screen (bidirectional overrides, as in "Trojan
source") with a visible `?`; tab and newline stay. Escaping rich markup is a
different thing and is still needed on top.

`excel_text` keeps what an XLSX cell can hold: XML 1.0 has no place for most
C0 controls (openpyxl raises on them) nor for U+FFFE/U+FFFF, and Excel cuts a
cell at 32,767 characters. What it cannot hold is replaced, not dropped, so
that the cell still shows that something was there.
"""

from __future__ import annotations

import re

REPLACEMENT = "?"
EXCEL_CELL_LIMIT = 32_767

# C0 controls except tab and newline, DEL, C1 controls, and bidirectional/invisible format controls.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 cannot carry (tab, newline and carriage return it can), and unpaired surrogates.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def printable(value: object) -> str:
    """`value` as text a terminal shows as it is: control characters replaced by '?'."""
    return _TERMINAL_UNSAFE.sub(REPLACEMENT, str(value))


def excel_text(value: str) -> str:
    """`value` as an XLSX cell can hold it: XML-illegal characters replaced, at most 32,767 characters."""
    text = _XML_UNSAFE.sub(REPLACEMENT, value)
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - 1] + "…"
    return text
