"""`python -m cmclaims` runs the command line."""

from cmclaims.cli import main

main()
