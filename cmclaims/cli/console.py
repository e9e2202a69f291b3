"""Where output goes: results to stdout, progress and messages to stderr.

No colour and no progress bar when stderr is not a terminal or NO_COLOR is set
(rich honours NO_COLOR itself); cron's mail stays plain.

Every string these consoles render (printed text, table cells, titles,
headings) passes through `printable` first, so no control character from an
input (an ESC sequence in a staff id, a carriage return in a file name)
reaches the terminal, whichever command prints it (SPEC section 3).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from cmclaims.io.safe_text import printable


class SafeConsole(Console):
    """A rich console that replaces control characters in every string before rendering it."""

    def render_str(self, text: str, **options: object) -> Text:
        """Our markup is printable, so cleaning the string before markup is parsed loses nothing of ours."""
        return super().render_str(printable(text), **options)  # type: ignore[arg-type]


# Piped output (cron mail, a file) gets room for the wide tables instead of rich's 80 columns.
stdout = SafeConsole(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)
stderr = SafeConsole(stderr=True, highlight=False)


def show_progress() -> bool:
    """Whether to draw a progress bar: only for a person at a terminal."""
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


@contextmanager
def stage_progress(stages: tuple[str, ...], enabled: bool) -> Iterator[object]:
    """A bar over the run's stages on stderr; a no-op when disabled."""
    if not enabled:
        yield lambda stage: None
        return
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=stderr, transient=True
    )
    task = progress.add_task("reading", total=len(stages))
    labels = {"read": "normalising", "normalise": "checking rules", "rules": "writing outputs", "write": "done"}

    def advance(stage: str) -> None:
        progress.update(task, advance=1, description=labels.get(stage, stage))

    with progress:
        yield advance
