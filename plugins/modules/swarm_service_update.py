#!/usr/bin/python
# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_service_update
short_description: Rolling update of an existing Docker Swarm service, waiting for it and rolling back on failure
version_added: 0.1.0
description:
  - Updates an existing Swarm service (image, replicas, environment, labels, resources, placement
    constraints, update and rollback configuration) through the Docker Engine API.
  - Only the options you give are compared and changed; everything else in the service spec is kept.
    C(changed=false) when the spec already matches.
  - With O(wait=true) it waits until Swarm reports the update as completed B(and) every desired task
    runs the new spec (and, for replicated services, the number of running tasks equals the replicas).
  - When the update pauses or fails (Swarm C(UpdateStatus) C(paused) or C(rollback_*)), or the timeout
    passes, it rolls the service back to its previous spec (O(rollback=true)), waits for the rollback,
    and fails with a message naming the failing tasks, their nodes and their errors.
  - It does not create services; use M(condaswarm.cluster.swarm_stack_deploy) or
    M(community.docker.docker_swarm_service) for that.
author:
  - condaswarm.cluster developers (@condaswarm)
extends_documentation_fragment:
  - condaswarm.cluster.swarm
requirements:
  - Docker Engine API >= 1.41 (Engine 20.10)
options:
  name:
    description: Service name or ID.
    type: str
    required: true
  image:
    description:
      - Image of the service's containers, for example C(registry.lab:5000/jupyter:2026.11).
      - Without a digest, the image is compared by name and tag (an implicit tag is C(latest)); a digest
        Docker may have pinned in the spec is ignored. Use O(force=true) to redeploy the same tag.
    type: str
  replicas:
    description: Number of replicas (replicated services only; must be >= 0).
    type: int
  env:
    description:
      - Environment of the containers. Replaces the whole environment when given (C({}) clears it).
      - Values are passed as text; quote booleans.
    type: dict
  labels:
    description: Service labels. Replace all service labels when given.
    type: dict
  container_labels:
    description: Container labels. Replace all container labels when given.
    type: dict
  limits:
    description: Resource limits of each task. Only the given keys change; C(0) removes a limit.
    type: dict
    suboptions: &resources
      cpus:
        description: CPUs, for example C(0.5).
        type: float
      memory:
        description: Memory as bytes or with a binary unit, for example C(512M) or C(2G).
        type: raw
  reservations:
    description: Resource reservations of each task (same keys as O(limits)).
    type: dict
    suboptions: *resources
  constraints:
    description:
      - Placement constraints, for example C(node.role==worker) or C(node.labels.jupyter==true).
      - Replace all constraints when given (order does not matter). C([]) removes them.
    type: list
    elements: str
  update_config:
    description: How Swarm rolls out an update. Only the given keys change.
    type: dict
    suboptions:
      parallelism: &parallelism
        description: Tasks replaced at once (C(0) = all at once).
        type: int
      delay: &delay
        description: Seconds between batches.
        type: float
      failure_action:
        description: What Swarm does when a task fails to update.
        type: str
        choices: [pause, continue, rollback]
      monitor: &monitor
        description: Seconds Swarm watches each new task for a failure.
        type: float
      max_failure_ratio: &max_failure_ratio
        description: Failure ratio tolerated (0 to 1).
        type: float
      order: &order
        description: Start the new task before or after stopping the old one.
        type: str
        choices: [start-first, stop-first]
  rollback_config:
    description: How Swarm rolls back. Only the given keys change. Same keys as O(update_config).
    type: dict
    suboptions:
      parallelism: *parallelism
      delay: *delay
      failure_action:
        description: What Swarm does when a task fails to roll back.
        type: str
        choices: [pause, continue]
      monitor: *monitor
      max_failure_ratio: *max_failure_ratio
      order: *order
  force:
    description: Redeploy every task even when nothing else changed (always reports C(changed)).
    type: bool
    default: false
  rollback:
    description:
      - When the update pauses, fails or times out, roll the service back to its previous spec, wait for
        the rollback (again at most O(timeout) seconds), and fail. With C(false) the service is left as Swarm
        left it and the module fails.
    type: bool
    default: true
notes:
  - The module never creates or removes services; an unknown service is an error.
  - Job services (C(replicated-job), C(global-job)) are updated but not waited for.
  - When Docker refuses the update with C(update out of sequence) (the service changed between the module's
    read and its write, for instance because Swarm recorded an update's progress), the module reads the
    service again, works out the change anew and retries, a few times at most.
seealso:
  - module: condaswarm.cluster.swarm_stack_deploy
  - module: condaswarm.cluster.swarm_node_drain
"""

EXAMPLES = r"""
- name: Roll out a new Jupyter image, one task at a time, rolling back on failure
  condaswarm.cluster.swarm_service_update:
    name: jupyter_jupyter
    image: registry.lab:5000/jupyter:2026.11
    update_config:
      parallelism: 1
      delay: 5
      order: start-first
    timeout: 600
  delegate_to: "{{ groups['swarm_managers'][0] }}"
  run_once: true

- name: Scale and set limits
  condaswarm.cluster.swarm_service_update:
    name: jupyter_jupyter
    replicas: 4
    limits:
      cpus: 2
      memory: 4G
    reservations:
      memory: 1G

- name: Redeploy the same tag (e.g. after pushing a rebuilt image) without waiting
  condaswarm.cluster.swarm_service_update:
    name: jupyter_proxy
    force: true
    wait: false
"""

RETURN = r"""
before:
  description: Summary of the managed fields before the update.
  returned: success or failure after the service was found
  type: dict
  sample:
    name: web
    image: condaswarm/busybox:latest
    mode: replicated
    replicas: 2
    env: {}
    labels: {}
    container_labels: {}
    limits: {}
    reservations: {}
    constraints: []
    update_config: {parallelism: 1, failure_action: pause, monitor: 5.0, max_failure_ratio: 0, order: stop-first}
    rollback_config: {}
    force_update: 0
after:
  description: Summary of the managed fields after the update (what was asked for in check mode).
  returned: success or failure after the service was found
  type: dict
changes:
  description: Options whose value differed from the service spec.
  returned: always
  type: list
  elements: str
  sample: [image, replicas]
elapsed:
  description: Seconds spent updating and waiting (and rolling back).
  returned: always
  type: float
  sample: 12.3
tasks:
  description: The service's desired tasks at the end (and the failing tasks on failure).
  returned: success or failure after the service was found
  type: list
  elements: dict
  sample:
    - {id: l8omn12is56d, service: web, slot: 1, node: worker1, image: condaswarm/busybox:latest,
       state: running, desired_state: running, error: null}
failing_tasks:
  description: Tasks that failed or were rejected with the new spec.
  returned: failure
  type: list
  elements: dict
rolled_back:
  description: Whether the service was rolled back to its previous spec (by this module or by Swarm).
  returned: always
  type: bool
update_status:
  description: Swarm's UpdateStatus of the service at the end.
  returned: when the service was updated and waited for
  type: dict
  sample: {State: completed, Message: update completed}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm
from ansible_collections.condaswarm.cluster.plugins.module_utils.swarm import (
    ROLLBACK_STATES,
    UPDATE_CONFIG_DEFAULTS,
    UPDATE_CONFIG_KEYS,
    SwarmError,
)
from ansible_collections.condaswarm.cluster.plugins.module_utils.swarm_runner import (
    SWARM_COMMON_ARGS,
    SwarmModuleRunner,
    run_swarm_module,
)

_RESOURCE_OPTIONS = {"cpus": {"type": "float"}, "memory": {"type": "raw"}}


def _update_config_options(failure_actions):
    return {
        "parallelism": {"type": "int"},
        "delay": {"type": "float"},
        "failure_action": {"type": "str", "choices": failure_actions},
        "monitor": {"type": "float"},
        "max_failure_ratio": {"type": "float"},
        "order": {"type": "str", "choices": ["start-first", "stop-first"]},
    }


ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str"},
    "replicas": {"type": "int"},
    "env": {"type": "dict"},
    "labels": {"type": "dict"},
    "container_labels": {"type": "dict"},
    "limits": {"type": "dict", "options": _RESOURCE_OPTIONS},
    "reservations": {"type": "dict", "options": _RESOURCE_OPTIONS},
    "constraints": {"type": "list", "elements": "str"},
    "update_config": {"type": "dict", "options": _update_config_options(["pause", "continue", "rollback"])},
    "rollback_config": {"type": "dict", "options": _update_config_options(["pause", "continue"])},
    "force": {"type": "bool", "default": False},
    "rollback": {"type": "bool", "default": True},
}


def _apply_image(new, params, changes):
    container = new["TaskTemplate"]["ContainerSpec"]
    image = params.get("image")
    if image is not None and not swarm.images_match(image, container.get("Image")):
        container["Image"] = image
        changes.append("image")


def _apply_replicas(new, params, changes):
    replicas = params.get("replicas")
    if replicas is None:
        return
    if replicas < 0:
        raise ValueError(f"replicas must be 0 or more, got {replicas}")
    mode = swarm.service_mode(new)
    if mode != "replicated":
        raise ValueError(f"service {new.get('Name')} runs in {mode} mode; replicas applies only to replicated services")
    if swarm.service_replicas(new) != replicas:
        new["Mode"] = {"Replicated": {"Replicas": replicas}}
        changes.append("replicas")


def _apply_mappings(new, params, changes):
    container = new["TaskTemplate"]["ContainerSpec"]
    if params.get("env") is not None:
        wanted = swarm.stringify_mapping(params["env"], "env value")
        if swarm.env_list_to_dict(container.get("Env")) != wanted:
            container["Env"] = swarm.env_dict_to_list(wanted)
            changes.append("env")
    for option, holder in (("labels", new), ("container_labels", container)):
        if params.get(option) is None:
            continue
        wanted = swarm.stringify_mapping(params[option], option.replace("_", " ")[:-1])
        if dict(holder.get("Labels") or {}) != wanted:
            holder["Labels"] = wanted
            changes.append(option)


def _apply_resources(new, params, changes):
    parsers = (("cpus", "NanoCPUs", swarm.parse_cpus), ("memory", "MemoryBytes", swarm.parse_memory))
    for option, part in (("limits", "Limits"), ("reservations", "Reservations")):
        wanted = params.get(option)
        if wanted is None:
            continue
        resources = new["TaskTemplate"].setdefault("Resources", {})
        current = dict(resources.get(part) or {})
        updated = dict(current)
        for key, api_key, parse in parsers:
            if wanted.get(key) is None:
                continue
            try:
                value = parse(wanted[key])
            except ValueError as exc:
                raise ValueError(f"{option}.{key}: {exc}") from exc
            if value:
                updated[api_key] = value
            else:
                updated.pop(api_key, None)
        if updated != current:
            resources[part] = updated
            changes.append(option)


def _apply_constraints(new, params, changes):
    constraints = params.get("constraints")
    if constraints is None:
        return
    placement = new["TaskTemplate"].setdefault("Placement", {})
    if not swarm.constraints_equal(placement.get("Constraints"), constraints):
        placement["Constraints"] = list(constraints)
        changes.append("constraints")


def _check_update_value(option, key, value):
    if key in ("parallelism", "delay", "monitor") and value < 0:
        raise ValueError(f"{option}.{key} must be 0 or more, got {value}")
    if key == "max_failure_ratio" and not 0 <= value <= 1:
        raise ValueError(f"{option}.max_failure_ratio must be between 0 and 1, got {value}")


def _apply_update_configs(new, params, changes):
    for option, api_key in (("update_config", "UpdateConfig"), ("rollback_config", "RollbackConfig")):
        wanted = {k: v for k, v in (params.get(option) or {}).items() if v is not None}
        if not wanted:
            continue
        # A spec without this block uses Swarm's defaults; a partial block would not.
        current = new.get(api_key) or dict(UPDATE_CONFIG_DEFAULTS)
        updated = dict(current)
        for key, value in wanted.items():
            _check_update_value(option, key, value)
            field, convert = UPDATE_CONFIG_KEYS[key]
            if current.get(field, UPDATE_CONFIG_DEFAULTS[field]) != convert(value):
                updated[field] = convert(value)
        if updated != current:
            new[api_key] = updated
            changes.append(option)


def build_spec(spec, params):
    """Apply the given options to a copy of ``spec``. Returns (new_spec, changed option names).

    Raises ValueError for input that cannot apply to this service.
    """
    new = swarm.deep_copy(spec)
    new.setdefault("TaskTemplate", {}).setdefault("ContainerSpec", {})
    changes = []
    for apply in (
        _apply_image,
        _apply_replicas,
        _apply_mappings,
        _apply_resources,
        _apply_constraints,
        _apply_update_configs,
    ):
        apply(new, params, changes)
    if params.get("force"):
        new["TaskTemplate"]["ForceUpdate"] = (new["TaskTemplate"].get("ForceUpdate") or 0) + 1
        changes.append("force")
    return new, changes


class ServiceUpdater(SwarmModuleRunner):
    def __init__(self, module, client):
        super().__init__(module, client)
        self.result.update(changes=[], rolled_back=False, tasks=[])

    def run(self):
        service, new_spec = swarm.retry_out_of_sequence(self.write_spec, f"update service {self.params['name']}")
        if not self.result["changes"] or self.module.check_mode:
            self.result["tasks"] = self.desired_task_summaries(service)
        elif self.params["wait"] and not swarm.service_mode(new_spec).endswith("-job"):
            self.wait_for_update(service["ID"], new_spec)

    def write_spec(self):
        """Read the service, work out its new spec and send it (not in check mode). Returns (service, new spec)."""
        name = self.params["name"]
        service = self.client.get_service(name)
        if service is None:
            self.fail(
                f"service {name!r} not found on the Swarm at {self.client.docker_host}. Check the name with "
                "`docker service ls` on a manager (stack services are named <stack>_<service>); this module "
                "updates existing services only."
            )
        try:
            new_spec, changes = build_spec(service["Spec"], self.params)
        except ValueError as exc:
            self.fail(f"service {service['Spec'].get('Name')}: {exc}")

        before, after = swarm.summarize_spec(service["Spec"]), swarm.summarize_spec(new_spec)
        self.result.update(changes=changes, before=before, after=after)
        if changes and not self.module.check_mode:
            self.client.update_service(service, new_spec)
        # Only once Docker took the spec: a failure after refused attempts changed nothing.
        self.result["changed"] = bool(changes)
        if changes and self.module._diff:
            self.result["diff"] = {"before": before, "after": after}
        return service, new_spec

    # -------------------------------------------------------------------------------------
    def desired_tasks(self, service, tasks):
        return [t for t in tasks if t.get("DesiredState") in ("running", "ready")]

    def desired_task_summaries(self, service, tasks=None):
        if tasks is None:
            tasks = self.client.tasks(service["ID"])
        name = service["Spec"].get("Name")
        return [self.client.task_summary(t, name) for t in self.desired_tasks(service, tasks)]

    def expected_count(self, service):
        spec = service["Spec"]
        mode = swarm.service_mode(spec)
        if mode == "replicated":
            return swarm.service_replicas(spec)
        constraints = (spec.get("TaskTemplate", {}).get("Placement") or {}).get("Constraints")
        try:
            return sum(
                1
                for node in self.client.nodes(refresh=True)
                if swarm.node_is_eligible(node) and swarm.node_matches_constraints(node, constraints)
            )
        except ValueError:
            return None  # a constraint we cannot evaluate: trust the orchestrator's task count

    def converged(self, service, tasks):
        """(done, running_new, expected)."""
        template = service["Spec"].get("TaskTemplate") or {}
        desired = self.desired_tasks(service, tasks)
        nodes = self.client.nodes(refresh=True)
        running_new = [
            t
            for t in desired
            if (t.get("Status") or {}).get("State") == "running" and swarm.task_runs_spec(t, template, nodes)
        ]
        expected = self.expected_count(service)
        done = len(running_new) == len(desired) and (expected is None or len(running_new) == expected)
        return done, len(running_new), expected if expected is not None else len(desired)

    def wait_for_update(self, service_id, new_spec):
        progress = {}

        def check():
            # Tasks first: the service's UpdateStatus read afterwards is at least as recent as them.
            tasks = self.client.tasks(service_id)
            service = self.client.get_service(service_id)
            if service is None:
                raise SwarmError(f"service {new_spec.get('Name')} disappeared while it was being updated")
            state = swarm.update_state(service)
            progress.update(service=service, tasks=tasks, state=state)
            if state == "paused" or state in ROLLBACK_STATES:
                return "failed"
            done, running_new, expected = self.converged(service, tasks)
            progress.update(running_new=running_new, expected=expected)
            if state in (None, "completed") and done:
                return "ok"
            return None

        outcome, timed_out = swarm.wait_for(check, self.params["timeout"])
        service, tasks = progress["service"], progress["tasks"]
        self.result["update_status"] = service.get("UpdateStatus") or {}
        self.result["tasks"] = self.desired_task_summaries(service, tasks)
        if outcome == "ok":
            return

        name = new_spec.get("Name")
        new_template = new_spec.get("TaskTemplate") or {}
        failing = self.client.problem_task_summaries(name, tasks, new_template, include_pending=timed_out)
        self.result["failing_tasks"] = failing
        status = service.get("UpdateStatus") or {}
        target = f"update of service {name}"
        if "image" in self.result["changes"]:
            target += f" to image {new_template.get('ContainerSpec', {}).get('Image')}"
        if timed_out:
            reason = (
                f"did not complete within {self.params['timeout']} s "
                f"({progress.get('running_new', 0)} of {progress.get('expected', '?')} desired tasks run the new spec"
                f"{', Swarm update state: ' + progress['state'] if progress.get('state') else ''})"
            )
        elif progress["state"] == "paused":
            reason = f"was paused by Swarm ({status.get('Message', 'no message')})"
        else:
            reason = f"failed and Swarm started a rollback itself ({status.get('Message', 'no message')})"
        tasks_text = swarm.describe_tasks(failing) or "no failed task was recorded"
        rollback_text = self.roll_back(service_id, name, progress["state"])
        hint = (
            "Make the image available to every node (push it to the registry the nodes pull from, or docker load "
            "it on each node) and run again."
            if any("No such image" in (t.get("error") or "") for t in failing)
            else f"See `docker service ps --no-trunc {name}` on a manager, fix the cause and run again."
        )
        self.fail(f"{target} {reason}. Failing tasks: {tasks_text}. {rollback_text} {hint}")

    def request_rollback(self, service_id):
        service = self.client.get_service(service_id)
        # Swarm may have started a rollback itself since the last look (failure_action=rollback).
        if swarm.update_state(service) not in ROLLBACK_STATES:
            self.client.rollback_service(service)

    def roll_back(self, service_id, name, state):
        """Roll back (unless Swarm already does) and wait. Returns a sentence for the failure message."""
        if not self.params["rollback"]:
            if state in ROLLBACK_STATES:
                return "Swarm rolls the service back itself (failure_action=rollback); not waited for (rollback=false)."
            return (
                "Not rolled back (rollback=false): the service stays as Swarm left it; "
                "`docker service rollback` returns it to its previous spec."
            )
        if state not in ROLLBACK_STATES:
            try:
                swarm.retry_out_of_sequence(lambda: self.request_rollback(service_id), f"roll back service {name}")
            except SwarmError as exc:
                return (
                    f"The rollback could not be requested ({exc.msg}); the service stays as Swarm left it: "
                    f"`docker service rollback {name}` returns it to its previous spec."
                )

        def check():
            service = self.client.get_service(service_id)
            state = swarm.update_state(service)
            if state == "rollback_paused":
                return service
            if state == "rollback_completed" and self.converged(service, self.client.tasks(service_id))[0]:
                return service
            return None

        service, timed_out = swarm.wait_for(check, self.params["timeout"])
        if timed_out or swarm.update_state(service) != "rollback_completed":
            service = self.client.get_service(service_id)
            status = service.get("UpdateStatus") or {}
            self.result["update_status"] = status
            how = (
                f"did not complete within {self.params['timeout']} s"
                if timed_out
                else f"was paused by Swarm ({status.get('Message', 'no message')})"
            )
            return (
                f"The rollback {how} (Swarm update state: {status.get('State')}); "
                "the service may run a mix of old and new tasks: check it now."
            )
        self.result["rolled_back"] = True
        self.result["update_status"] = service.get("UpdateStatus") or {}
        self.result["tasks"] = self.desired_task_summaries(service)
        self.result["after"] = swarm.summarize_spec(service["Spec"])
        image = service["Spec"].get("TaskTemplate", {}).get("ContainerSpec", {}).get("Image")
        return f"Rolled back: the service runs its previous spec again (image {image})."


def main():
    module = AnsibleModule(argument_spec={**ARGUMENT_SPEC, **SWARM_COMMON_ARGS}, supports_check_mode=True)
    run_swarm_module(module, ServiceUpdater)


if __name__ == "__main__":
    main()
