#!/usr/bin/python
# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: swarm_stack_deploy
short_description: Deploy or remove a Docker Swarm stack from compose files and wait until it converges
version_added: 0.1.0
description:
  - Deploys compose files as a Swarm stack with C(docker stack deploy), or removes the stack with
    C(docker stack rm). The Engine API has no stack endpoint, so this is the one module of the collection
    that runs the docker CLI; everything it reads (services, tasks, nodes) comes from the API.
  - C(changed) is computed by comparing the stack's service specs (by service name) and its networks,
    configs and secrets before and after the deploy, so redeploying an unchanged compose file reports
    C(changed=false).
  - With O(wait=true) it waits until every service of the stack converges. Replicated services need as many
    running tasks with the current spec as replicas; global services one running task per eligible node
    (C(ready) and C(active) nodes matching the placement constraints). One-shot tasks (restart condition
    C(none) or C(on-failure)) that completed count as done, and job services (C(replicated-job),
    C(global-job)) are done when their tasks completed, so they do not make the module hang.
    A one-shot task that failed for good (restart condition C(none)) fails the module. Swarm pauses the update
    of a one-shot service whose task exits within the update monitor period; that pause is not a failure
    when the tasks completed.
  - On timeout, or when Swarm pauses or rolls back the update of a service changed by this deploy,
    it fails with a report per service naming the failing tasks, their nodes and errors.
  - Must run on a Swarm manager that has the docker CLI; the compose files are read on that host. The CLI
    gets O(docker_host) as C(DOCKER_HOST).
author:
  - condaswarm.cluster developers (@condaswarm)
extends_documentation_fragment:
  - condaswarm.cluster.swarm
requirements:
  - the docker CLI (Debian's C(docker.io), or C(docker-cli) on Debian 13) on the host the module runs on
  - PyYAML (Debian's C(python3-yaml)) on the host the module runs on, for check mode, which reads the compose
    files itself
attributes:
  check_mode:
    support: partial
    details:
      - Check mode does not run the CLI. It reads the compose files itself (merging several files service by
        service, interpolating C(${VAR}) and C(${VAR:-default}) from the environment) and compares only service
        names, images, modes and replica counts with the running stack. Changes to anything else (environment,
        ports, networks, volumes, configs, resources, ...) are not predicted in check mode; a real run detects
        them by comparing the service specs.
  diff_mode:
    support: full
    details:
      - The diff shows a per-service summary (mode, replicas, image, and a digest of the whole service spec, so
        that changes to other fields show too) before and after.
options:
  name:
    description: Stack name (services are named C(<name>_<service>)).
    type: str
    required: true
  compose:
    description: Paths of compose files on the target host, merged in order like C(docker stack deploy -c a -c b).
    type: list
    elements: path
  state:
    description: C(present) deploys, C(absent) removes the stack.
    type: str
    choices: [present, absent]
    default: present
  prune:
    description: Remove services of the stack that are no longer in the compose files.
    type: bool
    default: false
  with_registry_auth:
    description: Send the registry credentials of the manager's docker CLI to the nodes.
    type: bool
    default: false
  resolve_image:
    description: Whether the CLI queries the registry to pin image digests.
    type: str
    choices: [always, changed, never]
    default: always
notes:
  - With O(state=absent), O(wait=true) waits until the stack's services and networks are gone.
seealso:
  - module: condaswarm.cluster.swarm_service_update
  - module: community.docker.docker_stack
"""

EXAMPLES = r"""
- name: Deploy the Jupyter stack and wait until every service runs
  condaswarm.cluster.swarm_stack_deploy:
    name: jupyter
    compose:
      - /etc/condaswarm/jupyter-stack.yml
    prune: true
    resolve_image: never
    timeout: 600
  delegate_to: "{{ groups['swarm_managers'][0] }}"
  run_once: true

- name: Remove the stack
  condaswarm.cluster.swarm_stack_deploy:
    name: jupyter
    state: absent
"""

RETURN = r"""
services:
  description: Per service of the stack, its mode, desired and running task counts and image at the end.
  returned: always
  type: dict
  sample:
    jupyter_proxy: {mode: global, desired: 1, running: 1, completed: 0, image: haproxy:lab, converged: true}
    jupyter_jupyter: {mode: replicated, desired: 2, running: 2, completed: 0, image: jupyter:lab, converged: true}
changed_services:
  description: Services created, updated or removed (in check mode, those that would be).
  returned: always
  type: dict
  sample: {created: [jupyter_ssh], updated: [jupyter_jupyter], removed: []}
planned:
  description: In check mode, what would change per service, as far as check mode can tell.
  returned: check mode
  type: dict
  sample: {jupyter_jupyter: ["image jupyter:1 -> jupyter:2"], jupyter_ssh: [create]}
stdout:
  description: Output of the docker CLI.
  returned: when the CLI ran
  type: str
elapsed:
  description: Seconds spent.
  returned: always
  type: float
  sample: 21.4
"""

import hashlib
import json
import os
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm
from ansible_collections.condaswarm.cluster.plugins.module_utils.swarm_runner import (
    SWARM_COMMON_ARGS,
    SwarmModuleRunner,
    run_swarm_module,
)

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "compose": {"type": "list", "elements": "path"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "prune": {"type": "bool", "default": False},
    "with_registry_auth": {"type": "bool", "default": False},
    "resolve_image": {"type": "str", "choices": ["always", "changed", "never"], "default": "always"},
}

NAMESPACE_LABEL = "com.docker.stack.namespace"


# ---------------------------------------------------------------------------------------------
# Compose reading for check mode
_VAR_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value, environ):
    """Compose-style ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``$VAR``; ``$$`` is a literal ``$``."""
    if not isinstance(value, str):
        return value

    def replace(match):
        name = match.group("braced") or match.group("plain")
        op, default = match.group("op"), match.group("default")
        current = environ.get(name)
        if op == ":-" and not current:
            return default
        if op == "-" and current is None:
            return default
        return current or ""

    parts = value.split("$$")
    return "$".join(_VAR_RE.sub(replace, part) for part in parts)


def load_compose(paths, environ):
    """Merge the services of several compose files (later files override keys of earlier ones)."""
    merged = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        for name, service in (data.get("services") or {}).items():
            target = merged.setdefault(name, {})
            for key, value in (service or {}).items():
                if isinstance(value, dict) and isinstance(target.get(key), dict):
                    target[key] = {**target[key], **value}
                else:
                    target[key] = value
    plan = {}
    for name, service in merged.items():
        deploy = service.get("deploy") or {}
        mode = interpolate(deploy.get("mode") or "replicated", environ)
        replicas = interpolate(deploy.get("replicas"), environ)
        if mode in ("replicated", "replicated-job"):
            replicas = int(replicas) if replicas not in (None, "") else 1
        else:
            replicas = None
        plan[name] = {"image": interpolate(service.get("image"), environ), "mode": mode, "replicas": replicas}
    return plan


def plan_changes(stack, plan, current, prune):
    """What check mode can predict: {service name: [change, ...]} for services that would change."""
    changes = {}
    for short, wanted in plan.items():
        name = f"{stack}_{short}"
        spec = current.get(name)
        if spec is None:
            changes[name] = ["create"]
            continue
        summary = swarm.summarize_spec(spec)
        items = []
        if wanted["image"] and not swarm.images_match(wanted["image"], summary["image"]):
            items.append(f"image {summary['image']} -> {wanted['image']}")
        if wanted["mode"] != summary["mode"]:
            items.append(f"mode {summary['mode']} -> {wanted['mode']}")
        elif wanted["replicas"] is not None and wanted["replicas"] != summary["replicas"]:
            items.append(f"replicas {summary['replicas']} -> {wanted['replicas']}")
        if items:
            changes[name] = items
    if prune:
        wanted_names = {f"{stack}_{short}" for short in plan}
        for name in current:
            if name not in wanted_names:
                changes[name] = ["remove"]
    return changes


def comparable_spec(spec):
    """A service spec without what changes on every deploy although nothing changed."""
    spec = swarm.deep_copy(spec)
    spec.pop("PreviousSpec", None)
    return json.dumps(spec, sort_keys=True)


# ---------------------------------------------------------------------------------------------
def service_status(service, tasks, nodes):
    """Convergence of one service: a dict with mode, desired, running, completed, failed, converged."""
    spec = service["Spec"]
    template = spec.get("TaskTemplate") or {}
    mode = swarm.service_mode(spec)
    condition = (template.get("RestartPolicy") or {}).get("Condition") or "any"
    current = [t for t in tasks if swarm.task_runs_spec(t, template, nodes)]

    def state(task):
        return (task.get("Status") or {}).get("State")

    active = [t for t in current if t.get("DesiredState") in ("running", "ready")]
    running = sum(1 for t in active if state(t) == "running")
    completed = sum(1 for t in current if state(t) == "complete")
    failed = [t for t in current if state(t) in swarm.FAILED_STATES]
    in_progress = sum(1 for t in active if state(t) in swarm.PENDING_STATES)

    if mode in ("replicated", "replicated-job"):
        desired = swarm.service_replicas(spec)
    else:
        constraints = (template.get("Placement") or {}).get("Constraints")
        try:
            desired = sum(
                1 for n in nodes if swarm.node_is_eligible(n) and swarm.node_matches_constraints(n, constraints)
            )
        except ValueError:
            desired = len(active) + (completed if mode == "global-job" else 0)

    final_failures = []
    if mode.endswith("-job"):
        converged = in_progress == 0 and running == 0 and completed >= desired
    elif condition == "any":
        converged = running == desired
    else:
        settled = running + completed
        if condition == "none":
            final_failures = failed
            settled += len(failed)
        converged = in_progress == 0 and settled >= desired
    return {
        "mode": mode,
        "desired": desired,
        "running": running,
        "completed": completed,
        "image": (template.get("ContainerSpec") or {}).get("Image"),
        "converged": converged,
        "final_failures": final_failures,
        # Swarm pauses an update when a task exits within the monitor period, which one-shot tasks do by design.
        "update_failed": swarm.update_state(service) in ("paused", *swarm.ROLLBACK_STATES)
        and not (condition != "any" and converged),
        "update_state": swarm.update_state(service),
    }


class StackDeployer(SwarmModuleRunner):
    def __init__(self, module, client):
        super().__init__(module, client)
        self.stack = module.params["name"]
        self.result.update(services={}, changed_services={"created": [], "updated": [], "removed": []})

    @classmethod
    def check_params(cls, params):
        error = super().check_params(params)
        if error is None and params["state"] == "present" and not params["compose"]:
            error = "compose must list at least one compose file when state=present"
        return error

    def label(self):
        return f"{NAMESPACE_LABEL}={self.stack}"

    def stack_services(self):
        return {s["Spec"]["Name"]: s for s in self.client.services(filters={"label": self.label()})}

    def snapshot(self):
        services = self.stack_services()
        return {
            "services": {name: comparable_spec(s["Spec"]) for name, s in services.items()},
            "specs": {name: s["Spec"] for name, s in services.items()},
            "objects": {
                kind: self.client.names_with_label(kind, self.label()) for kind in ("networks", "configs", "secrets")
            },
        }

    @staticmethod
    def summaries(specs):
        """Per service: mode, replicas, image, and a digest of the whole spec so that any change shows."""
        result = {}
        for name, spec in sorted(specs.items()):
            summary = {k: v for k, v in swarm.summarize_spec(spec).items() if k in ("mode", "replicas", "image")}
            summary["spec_digest"] = hashlib.sha256(comparable_spec(spec).encode()).hexdigest()[:12]
            result[name] = summary
        return result

    def docker_cli(self):
        docker = self.module.get_bin_path("docker")
        if not docker:
            self.fail(
                "the docker CLI was not found on this manager; `docker stack deploy` needs it (the Engine API has no "
                "stack endpoint). Install it: on Debian 13 the docker.io package only recommends docker-cli, "
                "so install docker-cli there."
            )
        return docker

    def cli_supports_detach(self):
        rc, out, _err = self.module.run_command([self.docker_cli(), "stack", "deploy", "--help"])
        return rc == 0 and "--detach" in out

    def cli(self, *args):
        rc, out, err = self.module.run_command(
            [self.docker_cli(), *args], environ_update={"DOCKER_HOST": self.params["docker_host"]}
        )
        if rc != 0:
            self.fail(
                f"`docker {' '.join(args)}` failed (rc={rc}): {(err or out).strip()}. Fix the compose file or the "
                "Swarm state it reports and run again.",
                stdout=out,
                stderr=err,
            )
        self.result["stdout"] = out
        self.result["stderr"] = err
        return out

    # -------------------------------------------------------------------------------------
    def run(self):
        if self.params["state"] == "absent":
            self.remove()
        else:
            self.deploy()

    def deploy(self):
        missing = [p for p in self.params["compose"] if not os.path.isfile(p)]
        if missing:
            self.fail(f"compose file(s) not found on the target host: {', '.join(missing)}. Copy them there first.")
        before = self.snapshot()
        if self.module.check_mode:
            self.check_mode_plan(before)
            return

        args = ["stack", "deploy"]
        for path in self.params["compose"]:
            args += ["--compose-file", path]
        if self.params["prune"]:
            args.append("--prune")
        if self.params["with_registry_auth"]:
            args.append("--with-registry-auth")
        args += ["--resolve-image", self.params["resolve_image"]]
        if self.cli_supports_detach():
            # CLI 26+ can wait itself; this module waits (and reports) on its own.
            args.append("--detach=true")
        self.cli(*args, self.stack)

        after = self.snapshot()
        old, new = before["services"], after["services"]
        changed = {
            "created": sorted(set(new) - set(old)),
            "updated": sorted(n for n in set(new) & set(old) if new[n] != old[n]),
            "removed": sorted(set(old) - set(new)),
        }
        self.result["changed_services"] = changed
        self.result["changed"] = any(changed.values()) or before["objects"] != after["objects"]
        if self.result["changed"] and self.module._diff:
            self.result["diff"] = {"before": self.summaries(before["specs"]), "after": self.summaries(after["specs"])}
        if self.params["wait"]:
            self.wait_for_convergence(set(changed["created"]) | set(changed["updated"]))
        else:
            self.result["services"] = self.public(self.statuses()[0])

    def check_mode_plan(self, before):
        if not HAS_YAML:
            self.fail(
                missing_required_lib(
                    "PyYAML (Debian package python3-yaml)", reason="to read the compose files in check mode"
                ),
                exception=YAML_IMPORT_ERROR,
            )
        try:
            plan = load_compose(self.params["compose"], os.environ)
        except Exception as exc:  # a broken file must not crash a --check run
            self.fail(f"cannot read the compose files in check mode: {exc}")
        planned = plan_changes(self.stack, plan, before["specs"], self.params["prune"])
        self.result["planned"] = planned
        self.result["changed"] = bool(planned)
        self.result["changed_services"] = {
            "created": sorted(n for n, c in planned.items() if c == ["create"]),
            "updated": sorted(n for n, c in planned.items() if c not in (["create"], ["remove"])),
            "removed": sorted(n for n, c in planned.items() if c == ["remove"]),
        }
        self.result["services"] = self.public(self.statuses()[0])
        if planned and self.module._diff:
            after = self.summaries(before["specs"])
            for short, wanted in plan.items():
                name = f"{self.stack}_{short}"
                if name in planned:
                    after[name] = {
                        "mode": wanted["mode"],
                        "replicas": wanted["replicas"],
                        "image": wanted["image"],
                        "spec_digest": "(not known in check mode)",
                    }
            for name, items in planned.items():
                if items == ["remove"]:
                    after.pop(name, None)
            self.result["diff"] = {"before": self.summaries(before["specs"]), "after": after}

    def statuses(self):
        services = self.stack_services()
        nodes = self.client.nodes(refresh=True)
        statuses, raw = {}, {}
        for name, service in sorted(services.items()):
            tasks = self.client.tasks(service["ID"])
            raw[name] = (service, tasks)
            statuses[name] = service_status(service, tasks, nodes)
        return statuses, raw

    @staticmethod
    def public(statuses):
        keep = ("mode", "desired", "running", "completed", "image", "converged")
        return {name: {k: s[k] for k in keep} for name, s in statuses.items()}

    def wait_for_convergence(self, touched):
        last = {}

        def check():
            statuses, raw = self.statuses()
            last.update(statuses=statuses, raw=raw)
            broken = [n for n, s in statuses.items() if s["final_failures"] or (n in touched and s["update_failed"])]
            if broken:
                return "failed"
            if all(s["converged"] for s in statuses.values()):
                return "ok"
            return None

        outcome, timed_out = swarm.wait_for(check, self.params["timeout"])
        statuses = last["statuses"]
        self.result["services"] = self.public(statuses)
        if outcome == "ok":
            return
        lines = []
        for name, status in statuses.items():
            if (
                status["converged"]
                and not status["final_failures"]
                and not (name in touched and status["update_failed"])
            ):
                continue
            lines.append(self.report(name, status, *last["raw"][name]))
        why = f"did not converge within {self.params['timeout']} s" if timed_out else "failed"
        self.fail(
            f"stack {self.stack} {why}: " + " | ".join(lines) + ". Fix the cause (see `docker stack ps --no-trunc "
            f"{self.stack}` on a manager) and run again."
        )

    def report(self, name, status, service, tasks):
        template = service["Spec"].get("TaskTemplate") or {}
        text = f"service {name} ({status['mode']}): {status['running']}/{status['desired']} running"
        if status["completed"]:
            text += f", {status['completed']} completed"
        text += f", image {status['image']}"
        if status["update_failed"]:
            message = (service.get("UpdateStatus") or {}).get("Message")
            text += f", update {status['update_state']} ({message})"
        details = swarm.describe_tasks(self.client.problem_task_summaries(name, tasks, template))
        if details:
            text += "; " + details
        return text

    def remove(self):
        before = self.snapshot()
        exists = bool(before["services"]) or any(before["objects"].values())
        self.result["changed"] = exists
        self.result["changed_services"]["removed"] = sorted(before["services"])
        self.result["services"] = self.public(self.statuses()[0]) if exists else {}
        if exists and self.module._diff:
            self.result["diff"] = {"before": self.summaries(before["specs"]), "after": {}}
        if not exists or self.module.check_mode:
            return
        self.cli("stack", "rm", self.stack)
        self.result["services"] = {}
        if not self.params["wait"]:
            return

        def gone():
            snap = self.snapshot()
            return True if not snap["services"] and not snap["objects"]["networks"] else None

        _done, timed_out = swarm.wait_for(gone, self.params["timeout"])
        if timed_out:
            self.fail(
                f"stack {self.stack} was removed but its services or networks are still listed after "
                f"{self.params['timeout']} s; check `docker stack ps {self.stack}` and `docker network ls`."
            )


def main():
    module = AnsibleModule(
        argument_spec={**ARGUMENT_SPEC, **SWARM_COMMON_ARGS},
        supports_check_mode=True,
        required_if=[("state", "present", ("compose",))],
    )
    run_swarm_module(module, StackDeployer)


if __name__ == "__main__":
    main()
