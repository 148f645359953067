"""An in-memory stand-in for docker.APIClient: services, tasks and nodes whose state tests script over time.

Only the calls the module_utils make are implemented, with the same signatures as docker SDK 5.0.3 / 7.x.
`FakeAPIClient.steps` is a list of callables applied one per `tasks()` call, so a test can say "after the
update, first the task is preparing, then rejected"; `on_update` / `on_rollback` / `on_node_update` react
to writes the way Swarm would. `interfere` is a list of callables (or None) applied one per write, before
it: another writer changing the object between the module's read and its write.
"""

import copy
import itertools

from docker.errors import APIError, NotFound

_ids = itertools.count(1)


def out_of_sequence():
    """What docker.APIClient raises when a write quotes a stale version index (Engine 20.10 to 26)."""
    return APIError(
        "500 Server Error: Internal Server Error", explanation="rpc error: code = Unknown desc = update out of sequence"
    )


def new_id(prefix="id"):
    return f"{prefix}{next(_ids):04d}"


def make_node(hostname, *, role="worker", availability="active", state="ready", labels=None, node_id=None):
    return {
        "ID": node_id or f"node-{hostname}",
        "Version": {"Index": 1},
        "Spec": {"Labels": labels or {}, "Role": role, "Availability": availability},
        "Description": {"Hostname": hostname, "Platform": {"OS": "linux", "Architecture": "x86_64"}},
        "Status": {"State": state, "Addr": "10.0.0.1"},
    }


def make_service(
    name,
    *,
    image="condaswarm/busybox:latest",
    replicas=2,
    mode=None,
    env=None,
    labels=None,
    service_id=None,
    restart="any",
    update_config=True,
    constraints=None,
):
    spec = {
        "Name": name,
        "Labels": labels or {},
        "TaskTemplate": {
            "ContainerSpec": {"Image": image, "Args": ["sleep", "1d"], "Env": env or []},
            "Resources": {"Limits": {}, "Reservations": {}},
            "RestartPolicy": {"Condition": restart, "Delay": 5_000_000_000, "MaxAttempts": 0},
            "Placement": {"Constraints": constraints} if constraints else {},
            "ForceUpdate": 0,
        },
        "Mode": mode or {"Replicated": {"Replicas": replicas}},
        "EndpointSpec": {"Mode": "vip"},
    }
    if update_config:
        spec["UpdateConfig"] = {
            "Parallelism": 1,
            "FailureAction": "pause",
            "Monitor": 5_000_000_000,
            "MaxFailureRatio": 0,
            "Order": "stop-first",
        }
        spec["RollbackConfig"] = dict(spec["UpdateConfig"])
    return {"ID": service_id or f"svc-{name}", "Version": {"Index": 10}, "Spec": spec}


def make_task(service, node_id, *, slot=1, state="running", desired="running", err=None, template=None, exit_code=0):
    spec = copy.deepcopy(template if template is not None else service["Spec"]["TaskTemplate"])
    spec.pop("RestartPolicy", None)
    status = {"State": state, "Message": state, "ContainerStatus": {"ExitCode": exit_code}}
    if err:
        status["Err"] = err
    return {
        "ID": new_id("task"),
        "ServiceID": service["ID"],
        "NodeID": node_id,
        "Slot": slot,
        "Spec": spec,
        "Status": status,
        "DesiredState": desired,
        "CreatedAt": f"2026-11-22T10:00:{next(_ids) % 60:02d}Z",
        "UpdatedAt": f"2026-11-22T10:00:{next(_ids) % 60:02d}Z",
    }


class FakeClock:
    def __init__(self):
        self.t = 1000.0
        self.slept = 0.0
        self.calls = 0

    def now(self):
        return self.t

    def sleep(self, seconds):
        # A wait that never ends must fail the test, not hang it.
        if seconds < 0:
            raise AssertionError(f"sleep({seconds}): negative sleep")
        self.calls += 1
        if self.slept + seconds > 24 * 3600 or self.calls > 10_000:
            raise AssertionError("the code under test waited more than a simulated day or 10000 times")
        self.t += seconds
        self.slept += seconds


class FakeResponse:
    def __init__(self, payload):
        self.payload = payload


class FakeAPIClient:
    def __init__(self, clock=None):
        self.clock = clock
        self.services_db = {}
        self.tasks_db = []
        self.nodes_db = []
        self.objects = {"networks": [], "configs": [], "secrets": []}
        self.calls = []
        self.steps = []
        self.on_update = None
        self.on_rollback = None
        self.on_node_update = None
        self.interfere = []
        self.client_kwargs = None

    # helpers for tests ---------------------------------------------------------------------
    def add_node(self, *args, **kwargs):
        node = make_node(*args, **kwargs)
        self.nodes_db.append(node)
        return node

    def add_service(self, *args, **kwargs):
        service = make_service(*args, **kwargs)
        self.services_db[service["ID"]] = service
        return service

    def add_task(self, service, node, **kwargs):
        task = make_task(service, node["ID"] if isinstance(node, dict) else node, **kwargs)
        self.tasks_db.append(task)
        return task

    def service(self, name):
        return next(s for s in self.services_db.values() if s["Spec"]["Name"] == name)

    def _write(self, what, obj, version):
        """Apply the next interference, then refuse the write as Swarm does when ``version`` is stale."""
        if self.interfere:
            hook = self.interfere.pop(0)
            if hook is not None:
                hook(self, obj)
        if version != obj["Version"]["Index"]:
            self.calls.append(("refused", what, obj["ID"]))
            raise out_of_sequence()

    def called(self, method):
        return [c for c in self.calls if c[0] == method]

    def _find_service(self, ref):
        for service in self.services_db.values():
            if ref in (service["ID"], service["Spec"]["Name"]):
                return service
        raise NotFound(f"service {ref} not found")

    # the APIClient surface ---------------------------------------------------------------
    def inspect_service(self, service, insert_defaults=None):
        self.calls.append(("inspect_service", service))
        return copy.deepcopy(self._find_service(service))

    def services(self, filters=None):
        self.calls.append(("services", filters))
        result = list(self.services_db.values())
        label = (filters or {}).get("label")
        if label:
            key, _sep, value = label.partition("=")
            result = [s for s in result if s["Spec"].get("Labels", {}).get(key) == value]
        return copy.deepcopy(result)

    def tasks(self, filters=None):
        self.calls.append(("tasks", filters))
        if self.steps:
            self.steps.pop(0)(self)
        filters = filters or {}
        result = self.tasks_db
        if "service" in filters:
            service = self._find_service(filters["service"])
            result = [t for t in result if t["ServiceID"] == service["ID"]]
        if "node" in filters:
            result = [t for t in result if t["NodeID"] == filters["node"]]
        return copy.deepcopy(result)

    def update_service(
        self,
        service,
        version,
        *,
        task_template=None,
        name=None,
        labels=None,
        mode=None,
        update_config=None,
        networks=None,
        endpoint_config=None,
        endpoint_spec=None,
        fetch_current_spec=False,
        rollback_config=None,
    ):
        current = self._find_service(service)
        self._write("update_service", current, version)
        spec = {
            "Name": name,
            "Labels": labels,
            "TaskTemplate": copy.deepcopy(task_template),
            "Mode": copy.deepcopy(mode),
            "UpdateConfig": copy.deepcopy(update_config),
            "RollbackConfig": copy.deepcopy(rollback_config),
            "EndpointSpec": copy.deepcopy(endpoint_spec),
        }
        spec = {k: v for k, v in spec.items() if v is not None}
        self.calls.append(("update_service", service, spec))
        current["PreviousSpec"] = current["Spec"]
        current["Spec"] = spec
        current["Version"] = {"Index": version + 1}
        current.pop("UpdateStatus", None)
        if self.on_update:
            self.on_update(self, current)
        return {"Warnings": None}

    def _url(self, pathfmt, *args, **kwargs):
        return pathfmt.format(*args)

    def _post_json(self, url, data=None, params=None, headers=None):
        service_id = url.split("/")[2]
        current = self._find_service(service_id)
        if params.get("rollback") != "previous":
            raise AssertionError(f"unexpected raw POST {url} {params}")
        self._write("rollback", current, params["version"])
        self.calls.append(("post", url, params))
        previous = current.get("PreviousSpec")
        if previous is None:
            raise APIError("service does not have a previous spec")
        current["Spec"], current["PreviousSpec"] = previous, current["Spec"]
        current["Version"] = {"Index": params["version"] + 1}
        current["UpdateStatus"] = {"State": "rollback_started", "Message": "manually requested rollback"}
        if self.on_rollback:
            self.on_rollback(self, current)
        return FakeResponse({"Warnings": None})

    def _result(self, response, json=False, binary=False):
        return response.payload

    def nodes(self, filters=None):
        self.calls.append(("nodes", filters))
        return copy.deepcopy(self.nodes_db)

    def inspect_node(self, node_id):
        self.calls.append(("inspect_node", node_id))
        for node in self.nodes_db:
            if node_id in (node["ID"], node["Description"]["Hostname"]):
                return copy.deepcopy(node)
        raise NotFound(f"node {node_id} not found")

    def update_node(self, node_id, version, node_spec=None):
        node = next(n for n in self.nodes_db if n["ID"] == node_id)
        self._write("update_node", node, version)
        self.calls.append(("update_node", node_id, copy.deepcopy(node_spec)))
        node["Spec"] = copy.deepcopy(node_spec)
        node["Version"] = {"Index": version + 1}
        if self.on_node_update:
            self.on_node_update(self, node)

    def _objects(self, kind, filters):
        label = (filters or {}).get("label", "")
        key, _sep, value = label.partition("=")
        return [{"Name": o["Name"]} for o in self.objects[kind] if o.get("Labels", {}).get(key) == value]

    def networks(self, names=None, ids=None, filters=None):
        return self._objects("networks", filters)

    def configs(self, filters=None):
        return [{"Spec": o} for o in self._objects("configs", filters)]

    def secrets(self, filters=None):
        return [{"Spec": o} for o in self._objects("secrets", filters)]
