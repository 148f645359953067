"""Filters of the jupyter_stack role: how many Jupyter replicas one worker may run."""

DOCUMENTATION = r"""
name: jupyter_max_replicas_per_node
short_description: Swarm's max_replicas_per_node for the Jupyter replicas, given or derived from the workers
description:
  - Returns the per-node cap of the Jupyter service's tasks (C(deploy.placement.max_replicas_per_node)); C(0)
    means no cap.
  - With O(_input=auto), the smallest cap that, with one worker down, still leaves room on the others for every
    replica plus the extra task of a start-first update, that is C(ceil((replicas + 1) / (nodes - 1))). It is
    used only when it is below O(replicas), so that no single worker can hold every replica and a worker loss
    always leaves one serving. With fewer than three workers no cap can give both (the full count on the one
    survivor needs a cap of at least O(replicas)), so C(0).
  - A number is returned unchanged after a check that the workers have room for a start-first update (each
    worker up), C(cap * nodes >= replicas + 1). O(nodes) C(0) (not known) skips that check.
positional: replicas, nodes
options:
  _input:
    description: C(auto) or the cap (an integer, C(0) for none).
    type: raw
    required: true
  replicas:
    description: The service's replica count.
    type: int
    required: true
  nodes:
    description: How many workers the replicas may run on (C(0) when not known).
    type: int
    required: true
"""

EXAMPLES = r"""
- ansible.builtin.debug:
    msg: "{{ 'auto' | condaswarm.cluster.jupyter_max_replicas_per_node(3, 3) }}"  # 2
"""

RETURN = r"""
_value:
  description: The cap, C(0) for none.
  type: int
"""

import math

from ansible.errors import AnsibleFilterError

VARIABLE = "jupyter_stack_max_replicas_per_node"


def _int(value, name):
    if isinstance(value, bool):
        raise AnsibleFilterError(f"{name} must be an integer, not {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise AnsibleFilterError(f"{name} must be an integer, got {value!r}") from None
    if number < 0:
        raise AnsibleFilterError(f"{name} must not be negative, got {number}")
    return number


def jupyter_max_replicas_per_node(setting, replicas, nodes):
    replicas = _int(replicas, "jupyter_stack_replicas")
    nodes = _int(nodes, "the number of workers")
    if isinstance(setting, str) and setting.strip() == "auto":
        if nodes < 3:
            return 0
        cap = math.ceil((replicas + 1) / (nodes - 1))
        return cap if cap < replicas else 0
    cap = _int(setting, VARIABLE)
    if cap and nodes and cap * nodes < replicas + 1:
        raise AnsibleFilterError(
            f"{VARIABLE}={cap} leaves no room for a start-first update of {replicas} replicas on {nodes} workers "
            f"(a new task starts before the old one stops: {cap} x {nodes} must be at least {replicas + 1}); "
            "raise it, add a worker or set 0 for no cap"
        )
    return cap


class FilterModule:
    def filters(self):
        return {"jupyter_max_replicas_per_node": jupyter_max_replicas_per_node}
