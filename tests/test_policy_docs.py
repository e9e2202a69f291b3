"""docs/policy/<profile>.md: each document's requirements, in step with the rule registry and the profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmclaims.policy_doc import policy_markdown, profile_toml, profile_value
from cmclaims.rules import REGISTRY, rules_in_order
from cmclaims.tables import load_profile, profile_names
from cmclaims.tables.requirements import COMMON, load_requirements

POLICY = Path(__file__).resolve().parents[1] / "docs" / "policy"


@pytest.mark.parametrize("name", profile_names())
def test_the_page_is_current(name: str) -> None:
    page = POLICY / f"{name}.md"
    assert page.is_file(), f"docs/policy/{name}.md is missing: run `make docs`"
    assert page.read_text(encoding="utf-8") == policy_markdown(name), f"docs/policy/{name}.md is stale: run `make docs`"


@pytest.mark.parametrize("name", profile_names())
def test_requirements_name_only_rules_that_exist_and_apply(name: str) -> None:
    """A page that says a requirement is enforced by a rule the profile does not run would lie to the payer."""
    profile = load_profile(name)
    for requirement in load_requirements(name):
        for code in requirement.rules:
            assert code in REGISTRY, f"{name}: '{requirement.section}' names {code}, which does not exist"
            assert REGISTRY[code].applies_to(profile), (
                f"{name}: '{requirement.section}' says {code} enforces it, but {code} does not apply to {name}")


@pytest.mark.parametrize("name", profile_names())
def test_every_enforced_rule_of_the_profile_is_accounted_for(name: str) -> None:
    profile = load_profile(name)
    named = {code for r in (*load_requirements(name), *load_requirements(COMMON)) for code in r.rules}
    missing = [rule.code for rule in rules_in_order() if rule.applies_to(profile) and rule.code not in named]
    assert not missing, f"{name} enforces {missing} but its requirements (or common.toml) do not name them"


@pytest.mark.parametrize("name", [*profile_names(), COMMON])
def test_every_value_shown_exists_in_the_profile(name: str) -> None:
    profiles = profile_names() if name == COMMON else [name]
    for profile in profiles:
        data = profile_toml(profile)
        for requirement in load_requirements(name):
            for path in requirement.values:
                if name == COMMON and path != "rounding" and path != "codes":
                    continue
                profile_value(data, path)  # KeyError names the path


def test_the_readme_links_each_page() -> None:
    readme = (POLICY.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in profile_names():
        assert f"docs/policy/{name}.md" in readme, f"README's {name} section does not link docs/policy/{name}.md"


def test_a_quote_is_the_documents_own_words() -> None:
    """Quotes are checked against the seeds where the seeds are at hand (in the shared folder of the project)."""
    seeds = Path("/work/shared/seeds")
    if not seeds.is_dir():
        pytest.skip("the source documents are not in this checkout")
    import re

    def words(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", text.lower())

    def as_read(text: str) -> str:
        """The document as its reader sees it: struck-out text gone, footnote marks and markup dropped."""
        text = re.sub(r"~~.*?~~", " ", text)
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        text = re.sub(r"[\u00b9\u00b2\u00b3\u2070-\u2079]+", " ", text)
        return words(re.sub(r"<[^>]+>", " ", text))

    for name in profile_names():
        document = as_read((seeds / load_profile(name).source).read_text(encoding="utf-8"))
        for requirement in load_requirements(name):
            for fragment in re.split(r"\.\.\.|;", requirement.quote):
                fragment = words(fragment).strip()
                if len(fragment.split()) >= 4:
                    assert fragment in document, f"{name}, {requirement.section}: '{fragment}' is not in the document"
