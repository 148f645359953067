# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Swarm module of condaswarm.cluster does around its own work.

The options all of them take (documented once, in plugins/doc_fragments/swarm.py), the checks made
before Docker is called, the client, the result with the time spent, and failures that keep what the
module had found out. A module's ``main()`` builds its AnsibleModule with
``{**ARGUMENT_SPEC, **SWARM_COMMON_ARGS}`` and hands it to ``run_swarm_module`` with its runner class.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm

SWARM_COMMON_ARGS = {
    "docker_host": {"type": "str", "default": swarm.DEFAULT_DOCKER_HOST, "aliases": ["docker_url"]},
    "wait": {"type": "bool", "default": True},
    "timeout": {"type": "int", "default": 300},
}


class SwarmModuleRunner:
    """Base of each module's class: ``run()`` does the work; the result goes out with ``exit()`` or ``fail()``."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.started = swarm.now()
        self.result = {"changed": False}

    @classmethod
    def check_params(cls, params):
        """A message for input that cannot work, found before any Docker call; None when the input is fine."""
        if params["timeout"] <= 0:
            return f"timeout must be a positive number of seconds, got {params['timeout']}"
        return None

    def elapsed(self):
        return round(swarm.now() - self.started, 3)

    def fail(self, msg, **extra):
        self.result.update(extra)
        self.module.fail_json(msg=msg, elapsed=self.elapsed(), **self.result)

    def exit(self):
        self.module.exit_json(elapsed=self.elapsed(), **self.result)

    def run(self):
        raise NotImplementedError


def run_swarm_module(module, runner_class):
    """Check the input and the SDK, connect to ``docker_host``, run ``runner_class`` and report its result."""
    if not swarm.HAS_DOCKER:
        module.fail_json(
            msg=missing_required_lib("docker (Docker SDK for Python, Debian package python3-docker)"),
            exception=swarm.DOCKER_IMPORT_ERROR,
        )
    error = runner_class.check_params(module.params)
    if error:
        module.fail_json(msg=error)
    try:
        client = swarm.SwarmClient(module.params["docker_host"])
    except swarm.SwarmError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    runner = runner_class(module, client)
    try:
        runner.run()
    except swarm.SwarmError as exc:
        runner.fail(exc.msg, **exc.details)
    runner.exit()
