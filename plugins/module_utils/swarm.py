# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where condaswarm.cluster talks to Docker.

Only low-level ``docker.APIClient`` calls that exist in Docker SDK for Python 5.0.3 (Debian 12's
python3-docker) and 7.x are used, all public but one (``post_service_rollback``, which says why).
Pure helpers (spec summaries, unit parsing, task matching, constraint evaluation) live here too so
that the modules stay small and the helpers are testable. What ties this to an AnsibleModule is in
``swarm_runner``.
"""

from __future__ import annotations

import copy
import re
import time
import traceback

try:
    import docker
    from docker.errors import APIError, DockerException, NotFound

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised on hosts without the SDK
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):
        pass

    class APIError(DockerException):
        pass

    class NotFound(APIError):
        pass


DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
POLL_INTERVAL = 2.0
NANO = 1_000_000_000

# Swarm objects carry a version index that every write must quote. Docker refuses a write with a stale
# one with this text ("rpc error: code = Unknown desc = update out of sequence"): the object changed since
# it was read, by another client or by Swarm itself (an update's progress is written into the service).
OUT_OF_SEQUENCE = "update out of sequence"
WRITE_ATTEMPTS = 3
RETRY_DELAY = 1.0
# While the managers elect a new leader (the old one just stopped), every manager answers this; Raft
# elects within seconds when a quorum is left. A request it refused was not applied, so it is safe to
# ask again, reads and writes alike, until LEADER_WAIT seconds have gone.
NO_LEADER = "does not have a leader"
LEADER_WAIT = 30.0

# Swarmkit's defaults when a service spec has no UpdateConfig/RollbackConfig at all.
UPDATE_CONFIG_DEFAULTS = {
    "Parallelism": 1,
    "Delay": 0,
    "FailureAction": "pause",
    "Monitor": 5 * NANO,
    "MaxFailureRatio": 0,
    "Order": "stop-first",
}
UPDATE_CONFIG_KEYS = {
    # option name: (API key, converter to API value)
    "parallelism": ("Parallelism", int),
    "delay": ("Delay", lambda v: round(float(v) * NANO)),
    "failure_action": ("FailureAction", str),
    "monitor": ("Monitor", lambda v: round(float(v) * NANO)),
    "max_failure_ratio": ("MaxFailureRatio", float),
    "order": ("Order", str),
}
# Task states in which a task is still on its way to running.
PENDING_STATES = ("new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting")
FAILED_STATES = ("failed", "rejected", "orphaned")
ROLLBACK_STATES = ("rollback_started", "rollback_paused", "rollback_completed")


# ---------------------------------------------------------------------------------------------
# Clock: modules measure time through these two functions so that tests can replace them.
def now():
    return time.monotonic()


def sleep(seconds):
    time.sleep(seconds)


# ---------------------------------------------------------------------------------------------
# Pure helpers
_MEMORY_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def parse_memory(value):
    """Docker's RAMInBytes: ``512M``, ``1.5g``, ``1GiB``, ``1024`` (bytes) -> int bytes (binary units)."""
    if isinstance(value, bool):
        raise ValueError(f"memory value {value!r} is not a size")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"memory value {value} is negative")
        return value
    if isinstance(value, float):
        return parse_memory(str(value))
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*", str(value), re.IGNORECASE)
    if not match:
        raise ValueError(f"memory value {value!r} is not a size like 512M, 1.5G or 1073741824")
    number, unit = match.groups()
    return int(float(number) * _MEMORY_UNITS[unit.lower()])


def parse_cpus(value):
    """``0.5`` CPUs -> 500000000 NanoCPUs."""
    if isinstance(value, bool):
        raise ValueError(f"cpus value {value!r} is not a number")
    try:
        cpus = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cpus value {value!r} is not a number like 0.5 or 2") from exc
    if cpus < 0:
        raise ValueError(f"cpus value {value!r} is negative")
    return round(cpus * NANO)


def normalize_image(image):
    """Compare images by name:tag, ignoring a pinned digest and an implicit ``latest`` tag."""
    if not image:
        return image
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        name += ":latest"
    return name


def images_match(wanted, current):
    """True when ``current`` (a spec's image) is what ``wanted`` asks for.

    A wanted image with a digest must match exactly; without one, the digest Docker may have
    pinned in the spec is ignored.
    """
    if wanted is None or current is None:
        return wanted == current
    if "@" in wanted:
        return wanted == current
    return normalize_image(wanted) == normalize_image(current)


def env_list_to_dict(env):
    result = {}
    for item in env or []:
        key, sep, value = item.partition("=")
        result[key] = value if sep else None
    return result


def env_dict_to_list(env):
    return [f"{key}={value}" for key, value in sorted(env.items())]


def stringify_mapping(mapping, what):
    """Module option dicts -> {str: str}; booleans must be quoted so that yes/no do not surprise."""
    result = {}
    for key, value in (mapping or {}).items():
        if isinstance(value, bool):
            raise ValueError(f'{what} {key!r} is a boolean ({value}); quote it (e.g. "true") to pass it as text')
        result[str(key)] = "" if value is None else str(value)
    return result


_CONSTRAINT_RE = re.compile(r"^\s*(.+?)\s*(==|!=)\s*(.+?)\s*$")


def normalize_constraint(constraint):
    match = _CONSTRAINT_RE.match(constraint)
    if not match:
        return constraint.strip()
    return "".join(match.groups())


def constraints_equal(left, right):
    return sorted(normalize_constraint(c) for c in left or []) == sorted(normalize_constraint(c) for c in right or [])


def service_mode(spec):
    mode = spec.get("Mode") or {}
    for name in ("Replicated", "Global", "ReplicatedJob", "GlobalJob"):
        if name in mode:
            return {"Replicated": "replicated", "Global": "global"}.get(name, name[:-3].lower() + "-job")
    return "replicated"


def service_replicas(spec):
    mode = spec.get("Mode") or {}
    if "Replicated" in mode:
        return (mode["Replicated"] or {}).get("Replicas", 1)
    if "ReplicatedJob" in mode:
        return (mode["ReplicatedJob"] or {}).get("TotalCompletions", 1)
    return None


def _resources_summary(resources):
    resources = resources or {}
    result = {}
    if resources.get("NanoCPUs"):
        result["cpus"] = resources["NanoCPUs"] / NANO
    if resources.get("MemoryBytes"):
        result["memory"] = resources["MemoryBytes"]
    return result


def _update_config_summary(config):
    if not config:
        return {}
    names = {api: opt for opt, (api, _conv) in UPDATE_CONFIG_KEYS.items()}
    result = {}
    for api_key, value in config.items():
        if api_key in names:
            result[names[api_key]] = value / NANO if api_key in ("Delay", "Monitor") else value
    return result


def summarize_spec(spec):
    """The fields swarm_service_update manages, in module-option terms."""
    template = spec.get("TaskTemplate") or {}
    container = template.get("ContainerSpec") or {}
    resources = template.get("Resources") or {}
    return {
        "name": spec.get("Name"),
        "image": container.get("Image"),
        "mode": service_mode(spec),
        "replicas": service_replicas(spec),
        "env": env_list_to_dict(container.get("Env")),
        "labels": dict(spec.get("Labels") or {}),
        "container_labels": dict(container.get("Labels") or {}),
        "limits": _resources_summary(resources.get("Limits")),
        "reservations": _resources_summary(resources.get("Reservations")),
        "constraints": list((template.get("Placement") or {}).get("Constraints") or []),
        "update_config": _update_config_summary(spec.get("UpdateConfig")),
        "rollback_config": _update_config_summary(spec.get("RollbackConfig")),
        "force_update": template.get("ForceUpdate", 0),
    }


def _empty(value):
    return value in (None, "", [], {}, 0)


def _same(left, right):
    if _empty(left) and _empty(right):
        return True
    return left == right


# What a task's spec must share with its service's TaskTemplate to count as "running the current spec".
_TASK_CONTAINER_FIELDS = (
    "Image",
    "Env",
    "Args",
    "Command",
    "Labels",
    "User",
    "Dir",
    "Hostname",
    "Healthcheck",
    "Ulimits",
)


def _references(container, kind):
    """Secrets or configs as comparable (name, target file) pairs: IDs differ between versions, names do not."""
    name = "SecretName" if kind == "Secrets" else "ConfigName"
    return sorted((ref.get(name), (ref.get("File") or {}).get("Name")) for ref in container.get(kind) or [])


def _mounts(container):
    return sorted((m.get("Type"), m.get("Source"), m.get("Target")) for m in container.get("Mounts") or [])


def _same_apart_from_placement(task_spec, template):
    """True when a task spec and a TaskTemplate agree on everything a new task would differ in but placement."""
    task_container = task_spec.get("ContainerSpec") or {}
    container = template.get("ContainerSpec") or {}
    for field in _TASK_CONTAINER_FIELDS:
        left, right = task_container.get(field), container.get(field)
        if field == "Env":
            left, right = sorted(left or []), sorted(right or [])
        if not _same(left, right):
            return False
    # A rotated secret or config (versioned name) or a changed mount is a new spec too.
    if any(_references(task_container, kind) != _references(container, kind) for kind in ("Secrets", "Configs")):
        return False
    if _mounts(task_container) != _mounts(container):
        return False
    if not _same(task_spec.get("ForceUpdate"), template.get("ForceUpdate")):
        return False
    task_res, res = task_spec.get("Resources") or {}, template.get("Resources") or {}
    return all(
        _same((task_res.get(part) or {}).get(key), (res.get(part) or {}).get(key))
        for part in ("Limits", "Reservations")
        for key in ("NanoCPUs", "MemoryBytes")
    )


def task_runs_spec(task, template, nodes=None):
    """True when ``task`` was created from (an equivalent of) the service TaskTemplate ``template``.

    ``nodes`` (node objects) lets a change of placement constraints alone count as current for a task
    whose node satisfies the new constraints: Swarm leaves such tasks running (swarmkit's
    IsTaskDirtyPlacementConstraintsOnly), so waiting for them to be replaced would never end.
    """
    task_spec, template = task.get("Spec") or {}, template or {}
    if not _same_apart_from_placement(task_spec, template):
        return False
    constraints = (template.get("Placement") or {}).get("Constraints")
    if constraints_equal((task_spec.get("Placement") or {}).get("Constraints"), constraints):
        return True
    node = next((n for n in nodes or [] if n.get("ID") == task.get("NodeID")), None)
    try:
        return node is not None and node_matches_constraints(node, constraints)
    except ValueError:
        return False  # a constraint we cannot evaluate: the task counts as old, as before


def _node_attribute(node, key):
    spec = node.get("Spec") or {}
    desc = node.get("Description") or {}
    platform = desc.get("Platform") or {}
    simple = {
        "node.id": node.get("ID"),
        "node.hostname": desc.get("Hostname"),
        "node.role": spec.get("Role"),
        "node.platform.os": platform.get("OS"),
        "node.platform.arch": platform.get("Architecture"),
    }
    if key in simple:
        return simple[key]
    if key.startswith("node.labels."):
        return (spec.get("Labels") or {}).get(key[len("node.labels.") :])
    if key.startswith("engine.labels."):
        return ((desc.get("Engine") or {}).get("Labels") or {}).get(key[len("engine.labels.") :])
    raise ValueError(f"unsupported placement constraint key {key!r}")


def node_matches_constraints(node, constraints):
    """Evaluate Swarm placement constraints (``==``/``!=``) against a node object."""
    for constraint in constraints or []:
        match = _CONSTRAINT_RE.match(constraint)
        if not match:
            raise ValueError(f"placement constraint {constraint!r} is not of the form key==value or key!=value")
        key, operator, value = match.groups()
        actual = _node_attribute(node, key)
        equal = actual is not None and str(actual).lower() == value.lower()
        if equal != (operator == "=="):
            return False
    return True


def node_is_eligible(node):
    status = (node.get("Status") or {}).get("State")
    availability = (node.get("Spec") or {}).get("Availability")
    return status == "ready" and availability == "active"


def update_state(service):
    return ((service or {}).get("UpdateStatus") or {}).get("State")


# ---------------------------------------------------------------------------------------------
class SwarmError(Exception):
    """A failure with a message meant for the operator."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


class OutOfSequence(SwarmError):
    """Docker refused a write because the object's version index was stale."""


class NoLeader(SwarmError):
    """The managers had no Raft leader (an election, or a lost quorum): nothing was read or written."""


def retry_out_of_sequence(write, what, attempts=WRITE_ATTEMPTS):
    """Call ``write()`` again while Docker answers "update out of sequence", ``attempts`` times at most.

    ``write`` must read the object itself and work out its change from what it read: sending the same
    stale spec again would fail again, or undo what the other writer did.
    """
    for _attempt in range(attempts - 1):
        try:
            return write()
        except OutOfSequence:
            sleep(RETRY_DELAY)
    try:
        return write()
    except OutOfSequence as exc:
        raise SwarmError(
            f"could not {what}: Docker answered '{OUT_OF_SEQUENCE}' {attempts} times (the object changed "
            f"between each read and write: something else keeps writing it). Last answer: {exc.msg} "
            "Run again when nothing else changes it."
        ) from exc


def post_service_rollback(api, service):
    """Ask Swarm to roll ``service`` back to its PreviousSpec, as ``docker service rollback`` does.

    The collection's only use of private SDK methods. The request is the service update endpoint with
    ``rollback=previous`` in its query, and ``APIClient.update_service`` (5.0.3 up to 7.x) sends no query
    parameter but ``version``. Posting PreviousSpec as a plain update instead would be a new update, not a
    rollback: Swarm would apply UpdateConfig instead of RollbackConfig, report ``updating`` instead of the
    ``rollback_*`` states, and with failure_action=rollback roll "back" to the broken spec.
    tests/unit/plugins/module_utils/test_swarm.py runs this against docker 5.0.3 and the installed SDK.
    """
    url = api._url("/services/{0}/update", service["ID"])
    params = {"version": service["Version"]["Index"], "rollback": "previous"}
    return api._result(api._post_json(url, data=service["Spec"], params=params), json=True)


class SwarmClient:
    """A thin, version-tolerant wrapper around ``docker.APIClient``."""

    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, timeout=60):
        self.docker_host = docker_host
        try:
            self.api = docker.APIClient(base_url=docker_host, version="auto", timeout=timeout)
        except DockerException as exc:
            raise SwarmError(
                f"cannot talk to the Docker Engine at {docker_host}: {exc}. Is dockerd running there, and may "
                "this user use its socket (become: true, or membership of the docker group)?"
            ) from exc
        self._nodes = None

    def _call(self, what, func, *args, **kwargs):
        deadline = now() + LEADER_WAIT
        while True:
            try:
                return self._call_once(what, func, *args, **kwargs)
            except NoLeader:
                if now() >= deadline:
                    raise
                sleep(RETRY_DELAY)

    def _call_once(self, what, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NotFound:
            raise
        except APIError as exc:
            text = str(getattr(exc, "explanation", None) or exc)
            if NO_LEADER in text:
                raise NoLeader(
                    f"Docker API error while trying to {what}: {text}. The managers found no leader within "
                    f"{LEADER_WAIT:.0f} s: fewer than half of them are up (docker node ls on a manager)."
                ) from exc
            if OUT_OF_SEQUENCE in text:
                raise OutOfSequence(f"Docker API error while trying to {what}: {text}.") from exc
            hint = ""
            if "not a swarm manager" in text or "swarm mode" in text:
                hint = " Run this module on a Swarm manager (e.g. delegate_to: the first host of swarm_managers)."
            raise SwarmError(f"Docker API error while trying to {what}: {text}.{hint}") from exc
        except DockerException as exc:
            raise SwarmError(f"Docker error while trying to {what}: {exc}") from exc

    # services -----------------------------------------------------------------------------
    def get_service(self, ref):
        """A service by name or ID, or None."""
        try:
            return self._call(f"inspect service {ref}", self.api.inspect_service, ref)
        except NotFound:
            return None

    def services(self, filters=None):
        return self._call("list services", self.api.services, filters=filters) or []

    def tasks(self, service_id):
        return self._call("list tasks", self.api.tasks, filters={"service": service_id}) or []

    def node_tasks(self, node_id):
        return self._call("list tasks", self.api.tasks, filters={"node": node_id}) or []

    def update_service(self, service, spec):
        """Replace a service's spec (optimistic concurrency on its version index)."""
        return self._call(
            f"update service {spec.get('Name')}",
            self.api.update_service,
            service["ID"],
            service["Version"]["Index"],
            task_template=spec.get("TaskTemplate"),
            name=spec.get("Name"),
            labels=spec.get("Labels") or {},
            mode=spec.get("Mode"),
            update_config=spec.get("UpdateConfig"),
            rollback_config=spec.get("RollbackConfig"),
            endpoint_spec=spec.get("EndpointSpec"),
        )

    def rollback_service(self, service):
        """``docker service rollback`` (optimistic concurrency on the service's version index)."""
        return self._call(f"roll back service {service['Spec'].get('Name')}", post_service_rollback, self.api, service)

    # nodes --------------------------------------------------------------------------------
    def nodes(self, refresh=False):
        if self._nodes is None or refresh:
            self._nodes = self._call("list nodes", self.api.nodes) or []
        return self._nodes

    def hostname(self, node_id):
        if not node_id:
            return None
        for node in self.nodes():
            if node["ID"] == node_id:
                return (node.get("Description") or {}).get("Hostname") or node_id
        for node in self.nodes(refresh=True):
            if node["ID"] == node_id:
                return (node.get("Description") or {}).get("Hostname") or node_id
        return node_id

    def find_node(self, ref):
        """A node by ID, hostname or unique ID prefix, or None."""
        nodes = self.nodes(refresh=True)
        for node in nodes:
            if ref in (node["ID"], (node.get("Description") or {}).get("Hostname")):
                return node
        by_prefix = [node for node in nodes if node["ID"].startswith(ref)]
        return by_prefix[0] if len(by_prefix) == 1 else None

    def inspect_node(self, node_id):
        return self._call(f"inspect node {node_id}", self.api.inspect_node, node_id)

    def update_node(self, node, spec):
        return self._call(
            f"update node {node['ID']}", self.api.update_node, node["ID"], node["Version"]["Index"], node_spec=spec
        )

    # other stack objects ------------------------------------------------------------------
    def names_with_label(self, kind, label):
        func = {"networks": self.api.networks, "configs": self.api.configs, "secrets": self.api.secrets}[kind]
        items = self._call(f"list {kind}", func, filters={"label": label}) or []
        return sorted(item.get("Name") or (item.get("Spec") or {}).get("Name") for item in items)

    # task summaries -----------------------------------------------------------------------
    def problem_task_summaries(self, service_name, tasks, template, include_pending=True, limit=5):
        """Summaries of the tasks of ``template`` that failed or were rejected, carry an error, or (with
        ``include_pending``) are still on their way to running; the most recently updated first."""

        def wanted(task):
            status = task.get("Status") or {}
            if not task_runs_spec(task, template, self.nodes()):
                return False
            if status.get("State") in FAILED_STATES or status.get("Err"):
                return True
            return (
                include_pending
                and status.get("State") in PENDING_STATES
                and task.get("DesiredState") in ("running", "ready")
            )

        chosen = sorted((t for t in tasks if wanted(t)), key=lambda t: t.get("UpdatedAt") or "", reverse=True)
        return [self.task_summary(t, service_name) for t in chosen[:limit]]

    def task_summary(self, task, service_name=None):
        status = task.get("Status") or {}
        container = (task.get("Spec") or {}).get("ContainerSpec") or {}
        exit_code = (status.get("ContainerStatus") or {}).get("ExitCode")
        return {
            "id": task.get("ID"),
            "service": service_name or task.get("ServiceID"),
            "slot": task.get("Slot"),
            "node_id": task.get("NodeID"),
            "node": self.hostname(task.get("NodeID")),
            "image": container.get("Image"),
            "state": status.get("State"),
            "desired_state": task.get("DesiredState"),
            "message": status.get("Message"),
            "error": status.get("Err"),
            "exit_code": exit_code,
            "updated_at": task.get("UpdatedAt"),
        }


def describe_task(summary):
    """One line for a failure message: task id (slot) on node: state: error."""
    slot = f" (slot {summary['slot']})" if summary.get("slot") else ""
    where = f" on node {summary['node']}" if summary.get("node") else " (not scheduled on any node)"
    reason = summary.get("error") or summary.get("message") or ""
    if summary.get("exit_code"):
        reason = f"{reason} (exit code {summary['exit_code']})".strip()
    return f"task {summary['id']}{slot}{where}: {summary['state']}" + (f": {reason}" if reason else "")


def describe_tasks(summaries):
    """Failure text for several tasks, grouping those that failed the same way (one error, many slots)."""
    groups = {}
    for summary in summaries:
        line = describe_task(summary)
        head, sep, reason = line.partition(": ")
        groups.setdefault(reason if sep else line, []).append(head)
    parts = []
    for reason, heads in groups.items():
        parts.append(f"{', '.join(heads)}: {reason}" if reason else ", ".join(heads))
    return "; ".join(parts)


def wait_for(check, timeout, interval=POLL_INTERVAL):
    """Call ``check()`` until it returns something other than None, or the timeout passes.

    Returns (result, timed_out). ``check`` is always called at least once.
    """
    deadline = now() + timeout
    while True:
        result = check()
        if result is not None:
            return result, False
        remaining = deadline - now()
        if remaining <= 0:
            return None, True
        sleep(min(interval, remaining))


def deep_copy(value):
    return copy.deepcopy(value)
