"""What is wrong with a jupyter_image_environment (jupyter_image role, tasks/validate.yml).

The environment is rendered into environment.yml / requirements.txt and the Dockerfile: a key spelt wrong would
be dropped silently or fail a template later without naming the variable, a spec on several lines would add
lines of its own. Every message starts with the variable's name.

Tested in tests/unit/plugins/filter/test_jupyter_image_filters.py.
"""

import re

VARIABLE = "jupyter_image_environment"
KEYS = ("name", "python", "channels", "channel_priority", "dependencies", "pip")
PRIORITIES = ("strict", "flexible", "disabled")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# conda's python=<version>: 3, 3.12, 3.12.1, 3.12.*
_PYTHON = re.compile(r"^[0-9]+([.][0-9]+){0,2}([.][*])?$")


def _spec_list_problem(key, value, required):
    if value is None and not required:
        return None
    if not isinstance(value, list):
        return f"{VARIABLE}.{key} must be a list of strings, got {type(value).__name__}."
    bad = [item for item in value if not isinstance(item, str) or not item.strip() or re.search(r"[\r\n]", item)]
    if bad:
        return f"{VARIABLE}.{key}: every entry must be a one-line string, got {bad[0]!r}."
    return None


def jupyter_image_environment_problems(env, flavour="conda"):
    """Messages (each naming jupyter_image_environment) for what the image build could not use in `env`."""
    if not isinstance(env, dict):
        return [f"{VARIABLE} must be a dict (name, python, channels, channel_priority, dependencies, pip)."]
    problems = []
    unknown = sorted(str(key) for key in env if key not in KEYS)
    if unknown:
        problems.append(f"{VARIABLE}: unknown keys {', '.join(unknown)} (it takes {', '.join(KEYS)}).")
    name = env.get("name")
    if not (isinstance(name, str) and _NAME.match(name)):
        problems.append(f"{VARIABLE}.name must be letters, digits, . _ - (it names the env and kernel), got {name!r}.")
    python = env.get("python")
    if flavour != "pip" or python is not None:
        if not (isinstance(python, str) and _PYTHON.match(python)):
            problems.append(
                f"{VARIABLE}.python must be a quoted version such as '3.12' (unquoted 3.10 is the number 3.1), "
                f"got {python!r}."
            )
    for key, required in (("dependencies", True), ("pip", False), ("channels", False)):
        problem = _spec_list_problem(key, env.get(key), required)
        if problem:
            problems.append(problem)
    channels = env.get("channels")
    if isinstance(channels, list) and any(isinstance(c, str) and re.search(r"\s", c) for c in channels):
        problems.append(f"{VARIABLE}.channels: a channel is a name or URL without spaces.")
    priority = env.get("channel_priority", "strict")
    if priority not in PRIORITIES:
        problems.append(f"{VARIABLE}.channel_priority must be one of {', '.join(PRIORITIES)}, got {priority!r}.")
    return problems


class FilterModule:
    def filters(self):
        return {"jupyter_image_environment_problems": jupyter_image_environment_problems}
