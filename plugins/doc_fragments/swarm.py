# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options every Swarm module of the collection takes (plugins/module_utils/swarm_runner.py:
    # SWARM_COMMON_ARGS), what they all need on the host they run on, and the check and diff support
    # they all offer unless a module's own attributes say otherwise.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return the changes it would make without making them.
    support: full
  diff_mode:
    description: Returns before and after in diff mode (also in check mode, as a prediction).
    support: full
options:
  docker_host:
    description:
      - Docker Engine API endpoint of a Swarm manager, a C(unix://) socket or C(tcp://) without TLS.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  wait:
    description:
      - Wait until Swarm has carried out the change (the module's description says what that means for it),
        for at most O(timeout) seconds.
      - With C(false) the module returns as soon as the Engine API has accepted the change.
    type: bool
    default: true
  timeout:
    description: Seconds to wait (a positive number).
    type: int
    default: 300
requirements:
  - Docker SDK for Python >= 5.0.3 (Debian's C(python3-docker)) on the host the module runs on
notes:
  - The module talks to the Engine API of a Swarm manager; run it there, for example with
    C(delegate_to) the first host of C(swarm_managers).
"""
