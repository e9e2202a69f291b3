"""`cmclaims rule CODE` and `cmclaims profiles`: what the compliance officer reads, printed as written."""

from __future__ import annotations

import pytest

from cmclaims.cli import main
from cmclaims.rules import REGISTRY, rules_in_order


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


def test_rule_prints_bracketed_text_literally(capsys: pytest.CaptureFixture[str]) -> None:
    """Rich markup must not eat `[activities]` from the explanation (issue 10)."""
    rules_in_order()
    assert "[activities] not_billable" in REGISTRY["CM302"].section("What it checks")
    assert main(["rule", "CM302"]) == 0
    out = capsys.readouterr().out
    assert "`[activities] not_billable`" in out
    assert "code_tables/profiles/<profile>.toml, [activities]." in out


def test_rule_cm302_says_what_michigan_pays(capsys: pytest.CaptureFixture[str]) -> None:
    """The explanation and the behaviour agree: Michigan pays education, refuses shopping."""
    assert main(["rule", "CM302"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    michigan = out[out.index("mi-dwihn (T1016 and T1017 only):"):out.index("az-ahcccs refuses none")]
    assert "shopping" in michigan and "bill_paying" in michigan and "delivery" in michigan
    assert "Michigan pays education" in michigan
    assert "education," not in michigan.split("Michigan pays")[0]


@pytest.mark.parametrize("code", ["CM302", "CM303"])
def test_the_lists_in_the_explanation_match_the_profiles(code: str) -> None:
    """Each profile's list as the explanation prints it is the profile's own (no explanation out of step)."""
    from cmclaims.tables import load_profile, profile_names

    rules_in_order()
    text = " ".join(REGISTRY[code].section("What it checks").split())
    for name in profile_names():
        profile = load_profile(name)
        listed = (profile.activities.not_billable if code == "CM302" else profile.activities.need_member_present)
        if not listed:
            continue
        at = text.index(f"{name}")
        sentence = text[at:text.index(".", at)]
        assert set(a.strip() for a in sentence.split(":", 1)[1].split(",")) == set(listed), (code, name)


def test_profiles_shows_the_enrollment_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "mi-dwihn"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "members of HSW, CWP on T1016, T1017: served only by QIDP" in out
    assert "members living in nursing_facility may receive (of T1016, T1017) only: T1017:SE" in out
