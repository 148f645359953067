#!/usr/bin/python
# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_node_drain
short_description: Drain, pause or activate a Docker Swarm node and wait for its tasks to move away
version_added: 0.1.0
description:
  - Sets the availability of a Swarm node (C(drain), C(active) or C(pause)) through the Docker Engine API.
  - For C(drain), waits until no task of a replicated (non-global) service is still running on the node,
    and reports which tasks moved and, where Swarm already scheduled it, the node of the replacement task.
    Tasks of global services are stopped on a drained node too; they are not waited for and not reported.
  - Swarm does not move tasks back when a node becomes C(active) again; new and updated tasks may land on it.
    Use M(condaswarm.cluster.swarm_service_update) with O(condaswarm.cluster.swarm_service_update#module:force=true)
    to spread a service again.
author:
  - condaswarm.cluster developers (@condaswarm)
extends_documentation_fragment:
  - condaswarm.cluster.swarm
options:
  node:
    description: Hostname or ID (or unique ID prefix) of the node.
    type: str
    required: true
  availability:
    description: Availability to set.
    type: str
    choices: [drain, active, pause]
    default: drain
notes:
  - O(wait) applies to C(drain) only; C(active) and C(pause) take effect at once.
  - When Docker refuses the change with C(update out of sequence) (the node changed between the module's read
    and its write), the module reads the node again and retries, a few times at most.
seealso:
  - module: condaswarm.cluster.swarm_service_update
  - module: community.docker.docker_node
"""

EXAMPLES = r"""
- name: Drain worker2 for maintenance
  condaswarm.cluster.swarm_node_drain:
    node: worker2
    timeout: 120
  delegate_to: "{{ groups['swarm_managers'][0] }}"

- name: Put it back into service
  condaswarm.cluster.swarm_node_drain:
    node: worker2
    availability: active
  delegate_to: "{{ groups['swarm_managers'][0] }}"
"""

RETURN = r"""
node:
  description: The node that was addressed.
  returned: success or failure after the node was found
  type: dict
  sample: {id: yhxwzdvfdv74brz0ive125drg, hostname: worker2, role: worker, state: ready}
availability_before:
  description: Availability before the change.
  returned: success or failure after the node was found
  type: str
  sample: active
availability_after:
  description: Availability after the change (the requested one in check mode).
  returned: success or failure after the node was found
  type: str
  sample: drain
moved_tasks:
  description:
    - Tasks of replicated services that ran on the node before a drain. C(new_task) and C(new_task_node)
      are the replacement in the same slot, when Swarm already scheduled one.
    - In check mode, the tasks that would move (without replacements).
  returned: always
  type: list
  elements: dict
  sample:
    - {service: web, task: l8omn12is56dxcalftxmsvl3f, slot: 1, from_node: worker2,
       new_task: 4o3wuw296fv1bprj9kgco45e1, new_task_node: worker1, new_task_state: running}
remaining_tasks:
  description: Tasks of replicated services still running on the node when the timeout passed.
  returned: failure
  type: list
  elements: dict
elapsed:
  description: Seconds spent.
  returned: always
  type: float
  sample: 6.1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm
from ansible_collections.condaswarm.cluster.plugins.module_utils.swarm_runner import (
    SWARM_COMMON_ARGS,
    SwarmModuleRunner,
    run_swarm_module,
)

ARGUMENT_SPEC = {
    "node": {"type": "str", "required": True},
    "availability": {"type": "str", "choices": ["drain", "active", "pause"], "default": "drain"},
}

RUNNING_STATES = ("running", "starting", "preparing", "assigned", "accepted", "ready")


def node_summary(node):
    desc = node.get("Description") or {}
    return {
        "id": node["ID"],
        "hostname": desc.get("Hostname"),
        "role": (node.get("Spec") or {}).get("Role"),
        "availability": (node.get("Spec") or {}).get("Availability"),
        "state": (node.get("Status") or {}).get("State"),
    }


class NodeDrainer(SwarmModuleRunner):
    def __init__(self, module, client):
        super().__init__(module, client)
        self.result["moved_tasks"] = []
        self._service_cache = {}

    def service(self, service_id):
        if service_id not in self._service_cache:
            self._service_cache[service_id] = self.client.get_service(service_id)
        return self._service_cache[service_id]

    def replicated_tasks_on(self, node_id):
        """Tasks of non-global services that are running (or about to) on the node."""
        result = []
        for task in self.client.node_tasks(node_id):
            if (task.get("Status") or {}).get("State") not in RUNNING_STATES:
                continue
            service = self.service(task.get("ServiceID"))
            if service is None or swarm.service_mode(service["Spec"]) in ("global", "global-job"):
                continue
            result.append(task)
        return result

    def run(self):
        ref = self.params["node"]
        node = self.client.find_node(ref)
        if node is None:
            known = ", ".join(sorted(n.get("Description", {}).get("Hostname", n["ID"]) for n in self.client.nodes()))
            self.fail(
                f"node {ref!r} is not a member of the Swarm at {self.client.docker_host} (known nodes: {known}). "
                "Use a hostname or ID from `docker node ls` on a manager."
            )
        wanted = self.params["availability"]
        before = (node.get("Spec") or {}).get("Availability")
        self.result.update(node=node_summary(node), availability_before=before, availability_after=before)
        if before == wanted:
            return

        moving = self.replicated_tasks_on(node["ID"]) if wanted == "drain" else []
        self.result["moved_tasks"] = [self.moved(task, node) for task in moving]
        if self.module.check_mode:
            self.report_change(before, wanted)
            return

        def write():
            current = self.client.inspect_node(node["ID"])
            spec = swarm.deep_copy(current.get("Spec") or {})
            spec["Availability"] = wanted
            self.client.update_node(current, spec)

        hostname = self.result["node"]["hostname"] or node["ID"]
        swarm.retry_out_of_sequence(write, f"set the availability of node {hostname} to {wanted}")
        # Only once Docker took it: a failure after refused attempts changed nothing.
        self.report_change(before, wanted)
        self.result["node"] = node_summary(self.client.inspect_node(node["ID"]))
        if wanted == "drain" and self.params["wait"]:
            self.wait_for_drain(node, moving)

    def report_change(self, before, wanted):
        self.result.update(changed=True, availability_after=wanted)
        if self.module._diff:
            self.result["diff"] = {"before": {"availability": before}, "after": {"availability": wanted}}

    def moved(self, task, node, replacement=None):
        service = self.service(task.get("ServiceID"))
        entry = {
            "service": service["Spec"].get("Name") if service else task.get("ServiceID"),
            "task": task["ID"],
            "slot": task.get("Slot"),
            "from_node": (node.get("Description") or {}).get("Hostname") or node["ID"],
        }
        if replacement is not None:
            entry["new_task"] = replacement["ID"]
            entry["new_task_node"] = self.client.hostname(replacement.get("NodeID"))
            entry["new_task_state"] = (replacement.get("Status") or {}).get("State")
        return entry

    def wait_for_drain(self, node, moving):
        remaining = []

        def check():
            remaining[:] = self.replicated_tasks_on(node["ID"])
            return True if not remaining else None

        _done, timed_out = swarm.wait_for(check, self.params["timeout"])
        self.result["moved_tasks"] = [self.moved(task, node, self.replacement(task, node)) for task in moving]
        stranded = [t for t in self.result["moved_tasks"] if t.get("new_task") and not t.get("new_task_node")]
        if stranded:
            self.module.warn(
                f"{len(stranded)} task(s) drained from this node have no node to run on yet "
                f"({', '.join(sorted({t['service'] for t in stranded}))}): check placement constraints, "
                "reservations and the availability of the other nodes"
            )
        if timed_out:
            hostname = (node.get("Description") or {}).get("Hostname") or node["ID"]
            summaries = [
                self.client.task_summary(t, (self.service(t["ServiceID"]) or {}).get("Spec", {}).get("Name"))
                for t in remaining
            ]
            text = "; ".join(f"{s['service']} {swarm.describe_task(s)}" for s in summaries)
            self.fail(
                f"node {hostname} is set to drain, but {len(remaining)} task(s) of replicated services still run on "
                f"it after {self.params['timeout']} s: {text}. Check `docker node ps {hostname}` and the tasks' stop "
                "grace periods; the node stays drained, run again to keep waiting.",
                remaining_tasks=summaries,
            )

    def replacement(self, task, node):
        """The task Swarm started in the same slot on another node, if any."""
        candidates = [
            t
            for t in self.client.tasks(task.get("ServiceID"))
            if t["ID"] != task["ID"]
            and t.get("NodeID") != node["ID"]
            and t.get("DesiredState") == "running"
            and (task.get("Slot") is None or t.get("Slot") == task.get("Slot"))
        ]
        candidates.sort(key=lambda t: t.get("CreatedAt") or "", reverse=True)
        return candidates[0] if candidates else None


def main():
    module = AnsibleModule(argument_spec={**ARGUMENT_SPEC, **SWARM_COMMON_ARGS}, supports_check_mode=True)
    run_swarm_module(module, NodeDrainer)


if __name__ == "__main__":
    main()
