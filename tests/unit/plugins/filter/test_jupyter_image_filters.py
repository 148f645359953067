"""jupyter_image_environment_problems: every message names jupyter_image_environment."""

import pytest
from ansible_collections.condaswarm.cluster.plugins.filter.jupyter_image import (
    FilterModule,
    jupyter_image_environment_problems,
)

DEFAULT = {
    "name": "jupyter",
    "python": "3.10",
    "channels": ["conda-forge"],
    "channel_priority": "strict",
    "dependencies": ["jupyterlab", "ipykernel", "numpy"],
    "pip": [],
}


@pytest.mark.parametrize(
    ("env", "flavour"),
    [
        (DEFAULT, "conda"),
        ({"name": "data", "python": "3.12", "dependencies": ["numpy=1.26", "scipy >=1.11"], "pip": ["rich"]}, "conda"),
        ({"name": "j.v2_x-y", "python": "3.12.*", "dependencies": []}, "conda"),
        # The pip flavour drops python: it may be absent.
        ({"name": "jupyter", "dependencies": ["jupyterlab"]}, "pip"),
        ({**DEFAULT, "channel_priority": "flexible", "channels": ["https://conda.example.org/main"]}, "conda"),
    ],
)
def test_good_environments(env, flavour):
    assert jupyter_image_environment_problems(env, flavour) == []


@pytest.mark.parametrize(
    ("env", "flavour", "part"),
    [
        (["numpy"], "conda", "must be a dict"),
        ({**DEFAULT, "dependnecies": ["numpy"]}, "conda", "unknown keys dependnecies"),
        ({**DEFAULT, "name": "my env"}, "conda", ".name must be"),
        ({**DEFAULT, "name": 5}, "conda", ".name must be"),
        ({k: v for k, v in DEFAULT.items() if k != "name"}, "conda", ".name must be"),
        ({**DEFAULT, "python": 3.1}, "conda", ".python must be a quoted version"),
        ({**DEFAULT, "python": ""}, "conda", ".python must be a quoted version"),
        ({**DEFAULT, "python": "3.10; rm -rf /"}, "conda", ".python must be a quoted version"),
        ({k: v for k, v in DEFAULT.items() if k != "python"}, "conda", ".python must be a quoted version"),
        ({**DEFAULT, "python": 3.12}, "pip", ".python must be a quoted version"),
        ({**DEFAULT, "dependencies": "numpy"}, "conda", ".dependencies must be a list of strings"),
        ({k: v for k, v in DEFAULT.items() if k != "dependencies"}, "conda", ".dependencies must be a list"),
        ({**DEFAULT, "dependencies": [{"pip": ["x"]}]}, "conda", ".dependencies: every entry must be"),
        ({**DEFAULT, "dependencies": ["numpy\nRUN id"]}, "conda", ".dependencies: every entry must be a one-line"),
        ({**DEFAULT, "dependencies": [""]}, "conda", ".dependencies: every entry"),
        ({**DEFAULT, "pip": {"rich": 1}}, "conda", ".pip must be a list of strings"),
        ({**DEFAULT, "channels": "conda-forge"}, "conda", ".channels must be a list of strings"),
        ({**DEFAULT, "channels": ["conda forge"]}, "conda", ".channels: a channel is a name or URL without spaces"),
        ({**DEFAULT, "channel_priority": "high"}, "conda", ".channel_priority must be one of strict"),
    ],
)
def test_bad_environments_name_the_variable(env, flavour, part):
    found = jupyter_image_environment_problems(env, flavour)
    assert len(found) == 1, found
    assert found[0].startswith("jupyter_image_environment")
    assert part in found[0]


def test_filter_is_registered():
    assert FilterModule().filters()["jupyter_image_environment_problems"] is jupyter_image_environment_problems
