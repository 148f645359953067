"""Garbage collection of the condaswarm registry (installed by the registry role, run by its systemd timer).

Per repository it keeps the `keep` most recently pushed tagged manifests, every manifest a Swarm service's
current or previous spec names (by tag or digest: what runs and what a rollback needs), every manifest pushed
in the last `min_age` seconds (a build may be pushing, its service not yet updated) and the manifests an index
it keeps lists. It deletes the other manifests (their revision links and the tags on them) and then runs the
registry's own `garbage-collect`, which deletes only the blobs no remaining manifest references.

Deleting while a push runs can lose the pushed blobs (the registry's documentation says so), so by default the
service is switched to read-only for the run (pulls go on; a push fails and can be retried) and back after,
which also restarts the registries and so clears their in-memory blob cache. Only one manager collects: the
first, by name, of the nodes running a registry task; the others' timers exit at once.

    python3 registry_gc.py /etc/condaswarm/registry-gc.json [--dry-run]
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

READONLY_ENV = "REGISTRY_STORAGE_MAINTENANCE_READONLY"
READONLY_VALUE = '{"enabled":true}'
INDEX_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)


def parse_image(ref, address):
    """(repository, tag, digest) of a service's image reference when it names `address`, else None."""
    prefix = address.rstrip("/") + "/"
    if not ref.startswith(prefix):
        return None
    rest = ref[len(prefix) :]
    rest, _, digest = rest.partition("@")
    repo, tag = rest, ""
    if ":" in rest.rsplit("/", 1)[-1]:
        repo, tag = rest.rsplit(":", 1)
    return repo, tag or ("" if digest else "latest"), digest


def in_use(images, address):
    """{repository: {'tags': set, 'digests': set}} of the services' image references on `address`."""
    used = {}
    for ref in images:
        parsed = parse_image(ref, address)
        if parsed:
            repo, tag, digest = parsed
            entry = used.setdefault(repo, {"tags": set(), "digests": set()})
            if tag:
                entry["tags"].add(tag)
            if digest:
                entry["digests"].add(digest)
    return used


def plan(repos, used, *, keep, now, min_age, children):
    """{repository: sorted digests to delete}.

    repos: {repository: {'revisions': {digest: mtime}, 'tags': {tag: digest}}}; used: in_use()'s answer;
    children(repo, digest): digests an index manifest lists (empty for an image manifest)."""
    deletions = {}
    for repo, state in repos.items():
        revisions, tags = state["revisions"], state["tags"]
        use = used.get(repo, {"tags": set(), "digests": set()})
        tagged = sorted(
            {d for d in tags.values() if d in revisions},
            key=lambda d: revisions[d],
            reverse=True,
        )
        kept = set(tagged[: max(keep, 0)])
        kept |= {d for d in use["digests"] if d in revisions}
        kept |= {tags[t] for t in use["tags"] if t in tags}
        kept |= {d for d, mtime in revisions.items() if now - mtime < min_age}
        for digest in list(kept):
            kept |= set(children(repo, digest))
        doomed = sorted(set(revisions) - kept)
        if doomed:
            deletions[repo] = doomed
    return deletions


def first_collector(task_nodes, me):
    """True when this node (`me`) is the one that collects: the first by name of the nodes running a task."""
    nodes = sorted({n for n in task_nodes if n})
    return bool(nodes) and nodes[0] == me


class Registry:
    """The registry's files under its data directory (distribution's filesystem layout)."""

    def __init__(self, data):
        self.root = Path(data) / "docker" / "registry" / "v2"

    def repositories(self):
        base = self.root / "repositories"
        repos = {}
        for manifests in sorted(base.rglob("_manifests")) if base.is_dir() else []:
            repo = manifests.parent.relative_to(base).as_posix()
            revisions = {}
            for link in (manifests / "revisions").glob("*/*/link"):
                revisions[f"{link.parent.parent.name}:{link.parent.name}"] = link.stat().st_mtime
            tags = {}
            for link in (manifests / "tags").glob("*/current/link"):
                tags[link.parent.parent.name] = link.read_text().strip()
            repos[repo] = {"revisions": revisions, "tags": tags}
        return repos

    def children(self, _repo, digest):
        algorithm, _, hexdigest = digest.partition(":")
        blob = self.root / "blobs" / algorithm / hexdigest[:2] / hexdigest / "data"
        try:
            document = json.loads(blob.read_text())
        except (OSError, ValueError):
            return []
        if document.get("mediaType") not in INDEX_TYPES and "manifests" not in document:
            return []
        return [m["digest"] for m in document.get("manifests") or [] if "digest" in m]

    def delete(self, repo, digest, tags):
        """What the registry's manifest DELETE does: the revision link and every tag on the manifest."""
        manifests = self.root / "repositories" / repo / "_manifests"
        algorithm, _, hexdigest = digest.partition(":")
        shutil.rmtree(manifests / "revisions" / algorithm / hexdigest, ignore_errors=True)
        for tag, current in tags.items():
            if current == digest:
                shutil.rmtree(manifests / "tags" / tag, ignore_errors=True)
        for index in (manifests / "tags").glob(f"*/index/{algorithm}/{hexdigest}"):
            shutil.rmtree(index, ignore_errors=True)


def docker(*args, check=True):
    # A service update waits for its tasks; nothing here should take longer than a quarter of an hour.
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=900).stdout.strip()


def service_images():
    ids = docker("service", "ls", "-q").split()
    if not ids:
        return []
    images = []
    for service in json.loads(docker("service", "inspect", *ids)):
        for spec in (service.get("Spec"), service.get("PreviousSpec")):
            image = ((spec or {}).get("TaskTemplate") or {}).get("ContainerSpec", {}).get("Image")
            if image:
                images.append(image)
    return images


def data_dir(config):
    if config["storage"]["type"] == "bind":
        return config["storage"]["source"]
    return docker("volume", "inspect", "-f", "{{.Mountpoint}}", config["storage"]["source"])


def tasks_converged(tasks, ready_nodes, readonly):
    """True when, on every Ready node that should run the service, its task runs with the wanted read-only
    setting. tasks: `docker inspect` of the service's tasks that should run; ready_nodes: IDs of Ready nodes.
    A node that is down is not waited for: a global service's update would wait for it forever."""
    wanted = f"{READONLY_ENV}={READONLY_VALUE}"
    live = [t for t in tasks if t.get("NodeID") in ready_nodes]
    return bool(live) and all(
        (t.get("Status") or {}).get("State") == "running"
        and (wanted in (((t.get("Spec") or {}).get("ContainerSpec") or {}).get("Env") or [])) == readonly
        for t in live
    )


def ready_node_ids():
    nodes = json.loads(docker("node", "inspect", *docker("node", "ls", "-q").split()))
    return {n["ID"] for n in nodes if (n.get("Status") or {}).get("State") == "ready"}


def set_readonly(service, enabled, timeout=600):
    """Switch the read-only mode and wait until the tasks on the Ready nodes run with it. The update does not
    wait itself (--detach): with a manager down it would never end."""
    flag = ["--env-add", f"{READONLY_ENV}={READONLY_VALUE}"] if enabled else ["--env-rm", READONLY_ENV]
    docker("service", "update", "--detach", "--quiet", *flag, service)
    deadline = time.time() + timeout
    while time.time() < deadline:
        ids = docker(
            "service",
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            "desired-state=running",
            service,
        ).split()
        tasks = json.loads(docker("inspect", *ids)) if ids else []
        if tasks_converged(tasks, ready_node_ids(), enabled):
            return
        time.sleep(2)
    raise TimeoutError(f"{service}: tasks not {'read-only' if enabled else 'writable'} after {timeout} s")


def collect(config, dry_run=False):
    service = config["service"]
    task_nodes = docker(
        "service",
        "ps",
        service,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}}",
    ).split()
    # A node that is down may still be listed with its last task: only Ready nodes count.
    ready = {
        line.split()[0]
        for line in docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").splitlines()
        if line.endswith(" Ready")
    }
    task_nodes = [n for n in task_nodes if n in ready]
    me = docker("info", "--format", "{{.Name}}")
    if not first_collector(task_nodes, me):
        print(f"{me}: another manager collects the registry's garbage ({sorted(set(task_nodes))})")
        return 0
    registry = Registry(data_dir(config))
    repos = registry.repositories()
    deletions = plan(
        repos,
        in_use(service_images(), config["address"]),
        keep=int(config["keep"]),
        now=time.time(),
        min_age=int(config["min_age"]),
        children=registry.children,
    )
    for repo, digests in sorted(deletions.items()):
        print(f"{repo}: deleting {len(digests)} manifest(s): {' '.join(digests)}")
    if dry_run:
        return 0
    readonly = str(config["readonly"]).lower() in {"true", "1", "yes"}
    storage = config["storage"]
    mount = f"type={storage['type']},source={storage['source']},target=/var/lib/registry"
    if readonly:
        set_readonly(service, True)
    try:
        for repo, digests in deletions.items():
            for digest in digests:
                registry.delete(repo, digest, repos[repo]["tags"])
        print(
            docker(
                "run",
                "--rm",
                "--network",
                "none",
                "--mount",
                mount,
                config["image"],
                "garbage-collect",
                config["config"],
            )
        )
    finally:
        if readonly:
            set_readonly(service, False)
    return 0


def main(argv):
    config = json.loads(Path(argv[1]).read_text())
    return collect(config, dry_run="--dry-run" in argv[2:])


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main(sys.argv))
