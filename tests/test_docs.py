"""docs/rules.md is generated from the registry; it must not go stale."""

from pathlib import Path

from cmclaims.docs import rules_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_rules_doc_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == rules_markdown(), "docs/rules.md is stale: run `make docs`"
