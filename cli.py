"""`python cli.py ...` at the repository root does what `cmclaims ...` does.

Run with a Python that lacks cmclaims' libraries, it hands over to the
checkout's .venv when `make install` made one, and otherwise says how to
install instead of ending in a traceback. Kept to syntax every Python 3 reads,
so that even an old interpreter gets the message.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYTHON = os.path.join(HERE, ".venv", "Scripts" if os.name == "nt" else "bin",
                           "python.exe" if os.name == "nt" else "python")
HOW_TO_INSTALL = (
    "cmclaims: hint: install it once from this folder with `make install` (it creates .venv), then run\n"
    "cmclaims: hint:   .venv/bin/cmclaims ...   or   python3 cli.py ...\n"
    "cmclaims: hint: without make: python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e .\n"
)


def _cannot_start(reason):
    sys.stderr.write("cmclaims: error: " + reason + "\n" + HOW_TO_INSTALL)
    sys.exit(2)


def _in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(HERE, ".venv"))


def _hand_over():
    """Run the same command with the checkout's .venv, when there is one and this is not it."""
    if os.path.exists(VENV_PYTHON) and not _in_venv():
        os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])


if __name__ == "__main__":
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs on any Python, to say which one is needed)
        _hand_over()
        _cannot_start("cmclaims needs Python 3.11 or newer; this is Python " + sys.version.split()[0])
    try:
        from cmclaims.cli import main
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "cmclaims" and os.path.isdir(os.path.join(HERE, "cmclaims")):
            raise  # a module of cmclaims itself is missing: a bug, not an installation problem
        _hand_over()
        _cannot_start("the library '" + str(exc.name) + "' that cmclaims needs is not installed for " + sys.executable)
    main()
