"""Each role documents every variable once: argument specs, defaults and README agree.

- every option in meta/argument_specs.yml is named in the role's README;
- defaults/main.yml holds exactly the spec's options that have a default, with the same values.
"""

from pathlib import Path

import pytest
import yaml

ROLES = sorted(
    p.parent.parent for p in (Path(__file__).resolve().parents[2] / "roles").glob("*/meta/argument_specs.yml")
)


def _spec(role):
    return yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_readme_names_every_variable(role):
    readme = (role / "README.md").read_text()
    missing = [name for name in _spec(role) if f"`{name}`" not in readme]
    assert missing == [], f"{role.name}/README.md does not document {missing}"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_match_specs(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    spec_defaults = {name: opt["default"] for name, opt in _spec(role).items() if "default" in opt}
    assert sorted(defaults) == sorted(spec_defaults), (
        f"{role.name}: defaults/main.yml and argument_specs differ in names"
    )
    differing = [name for name, value in spec_defaults.items() if defaults[name] != value]
    assert differing == [], f"{role.name}: defaults differ from argument_specs for {differing}"
