"""`python cli.py ...` at the repository root does what `cmclaims ...` does."""

from cmclaims.cli import main

if __name__ == "__main__":
    main()
