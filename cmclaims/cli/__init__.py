"""The command line: thin commands over the library, and the map from errors to exit codes.

Each command parses its options, calls one library function, renders the
result and returns its exit code. Errors the user can act on print their
message (never PHI) and exit with their code; anything else is a bug: exit 70,
with the exception's type and where it happened, but not its text, which
could quote a value from the export. CMCLAIMS_DEBUG=1 shows the traceback.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
import traceback
import warnings
from typing import Annotated

import typer
from typer.main import get_command

from cmclaims import __version__
from cmclaims.cli.help import readable_metavars
from cmclaims.errors import EXIT_CANNOT_WRITE, EXIT_INTERNAL, EXIT_LOCKED, CmclaimsError, from_environment
from cmclaims.io.safe_text import printable
from cmclaims.stopping import Interrupted, end_by

app = typer.Typer(
    name="cmclaims",
    help="""Pre-billing validator for behavioral-health case management claims.

    \b
    Examples:
      cmclaims map export.csv --out ehr-map.toml --profile ok-soonercare
      cmclaims ledger init
      cmclaims validate export.csv --profile ok-soonercare --out tonight --column-map ehr-map.toml
      cmclaims rule CM201
    """,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(asked: bool) -> None:
    if asked:
        print(f"cmclaims {__version__}")
        raise typer.Exit(0)


@app.callback()
def _everywhere(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Options every command line of cmclaims takes."""

# The commands register on `app` as they are imported.
from cmclaims.cli import catalog, compliance, ledger, map, remit, report, sample, validate  # noqa: E402,F401


def _print_error(message: str, hint: str | None = None) -> None:
    # Messages name files and columns, which come from the user: no control character reaches the terminal.
    print(f"cmclaims: error: {printable(message)}", file=sys.stderr)
    if hint:
        print(f"cmclaims: hint: {printable(hint)}", file=sys.stderr)


def _internal_error(exc: BaseException) -> int:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown place"
    _print_error(
        f"internal error {type(exc).__name__} at {where} (outputs are renamed into place whole or not at all)",
        "this is a bug in cmclaims; run again with CMCLAIMS_DEBUG=1 to see the traceback",
    )
    if os.environ.get("CMCLAIMS_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    return EXIT_INTERNAL


def _cannot_write(exc: BaseException) -> bool:
    """A full disk, an I/O error or a damaged database: the machine's state, not a bug."""
    if isinstance(exc, sqlite3.Error):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; exit with its code (or return it when `argv` is given, for tests)."""
    if not os.environ.get("CMCLAIMS_DEBUG"):
        # Library warnings can quote a value from the export (dateutil quotes words it
        # takes for time zones): none reaches stderr, which cron mails.
        warnings.simplefilter("ignore")
    stopped_by = None
    try:
        command = get_command(app)
        readable_metavars(command)
        command.main(args=argv, prog_name="cmclaims", standalone_mode=True)
        code = 0
    except SystemExit as exc:  # click exits: usage errors with 2, commands with their typer.Exit code
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CmclaimsError as exc:
        _print_error(exc.message, exc.hint)
        code = exc.exit_code
    except (sqlite3.Error, OSError) as exc:
        known = None if _cannot_write(exc) else from_environment(exc)  # a permission, a path: 73 or 75
        if known is not None:
            _print_error(known.message, known.hint)
            code = known.exit_code
        else:  # the disk or the ledger file failed under us: exit 73, never 70 (SPEC section 6)
            _print_error(f"a file or the ledger cannot be written or read ({type(exc).__name__}: "
                         f"{getattr(exc, 'strerror', None) or exc}); nothing was committed",
                         "check free space and the disk; `cmclaims ledger check` tells whether the ledger is sound")
            code = EXIT_CANNOT_WRITE
    except MemoryError:  # the machine's state, not a bug: retry where memory allows (75, "retry later")
        _print_error("the batch did not fit in the memory free on this machine; outputs are renamed into place "
                     "whole or not at all, and running the same night again is safe",
                     "run it when more memory is free, split the export into smaller files, or use --engine dask")
        code = EXIT_LOCKED
    except Interrupted as exc:  # the run has unwound: no spill folder or temporary file is left
        _print_error(f"stopped by {exc.name} before the end: outputs are renamed into place whole or not at all, "
                     "and running the same command again is safe")
        stopped_by = exc.signum
        code = 128 + exc.signum
    except Exception as exc:
        code = _internal_error(exc)
    if argv is None:
        if stopped_by is not None:
            code = end_by(stopped_by)  # SPEC gives a stopped run no code: it ends by the signal it was sent
        sys.exit(code)
    return code
