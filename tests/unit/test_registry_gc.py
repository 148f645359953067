"""The registry's garbage collector (roles/registry/files/registry_gc.py): what it keeps and deletes, on a
registry tree laid out as distribution writes it."""

import importlib.util
import json

import pytest
from ansible_play import ROOT

_spec = importlib.util.spec_from_file_location("registry_gc", ROOT / "roles" / "registry" / "files" / "registry_gc.py")
gc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gc)

ADDR = "registry:5000"
NOW = 1_000_000.0
DAY = 86400


def digest(n):
    return f"sha256:{n:064x}"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("registry:5000/condaswarm/jupyter:abc", ("condaswarm/jupyter", "abc", "")),
        (
            "registry:5000/condaswarm/jupyter:abc@sha256:1",
            ("condaswarm/jupyter", "abc", "sha256:1"),
        ),
        ("registry:5000/jupyter@sha256:1", ("jupyter", "", "sha256:1")),
        ("registry:5000/jupyter", ("jupyter", "latest", "")),
        ("other:5000/jupyter:1", None),
        ("registry:50001/jupyter:1", None),
        ("condaswarm/haproxy:debian12", None),
    ],
)
def test_parse_image(ref, expected):
    assert gc.parse_image(ref, ADDR) == expected


def repo(*revisions, tags=None):
    """revisions: (n, age in days); tags: {tag: n}."""
    return {
        "revisions": {digest(n): NOW - age * DAY for n, age in revisions},
        "tags": {t: digest(n) for t, n in (tags or {}).items()},
    }


def no_children(_repo, _digest):
    return []


@pytest.mark.parametrize(
    ("repos", "images", "keep", "expected"),
    [
        # The newest `keep` tagged manifests stay, the older ones go.
        (
            {
                "j": repo(
                    (1, 9),
                    (2, 8),
                    (3, 7),
                    (4, 6),
                    tags={"a": 1, "b": 2, "c": 3, "d": 4},
                )
            },
            [],
            2,
            {"j": [digest(1), digest(2)]},
        ),
        # What a service runs (by tag) and its previous spec (by digest) stay however old.
        (
            {
                "j": repo(
                    (1, 9),
                    (2, 8),
                    (3, 7),
                    (4, 6),
                    tags={"a": 1, "b": 2, "c": 3, "d": 4},
                )
            },
            [f"{ADDR}/j:a", f"{ADDR}/j:zz@{digest(2)}"],
            1,
            {"j": [digest(3)]},
        ),
        # Untagged manifests (a moved tag's old image) go unless a service names them or they are new.
        ({"j": repo((1, 9), (2, 8), (5, 0), tags={"a": 2})}, [], 3, {"j": [digest(1)]}),
        # Other registries' images and other repositories do not protect anything here.
        (
            {"j": repo((1, 9), (2, 8), tags={"a": 1, "b": 2})},
            ["other:5000/j:a", f"{ADDR}/k:a"],
            1,
            {"j": [digest(1)]},
        ),
        ({"j": repo((1, 9), tags={"a": 1})}, [], 0, {"j": [digest(1)]}),
        ({"j": repo()}, [], 3, {}),
    ],
    ids=["keep-newest", "in-use", "untagged", "other-refs", "keep-0", "empty"],
)
def test_plan(repos, images, keep, expected):
    assert (
        gc.plan(
            repos,
            gc.in_use(images, ADDR),
            keep=keep,
            now=NOW,
            min_age=3600,
            children=no_children,
        )
        == expected
    )


def test_plan_keeps_the_children_of_a_kept_index():
    repos = {"j": repo((1, 9), (2, 9), (3, 9), tags={"a": 3})}
    children = {digest(3): [digest(1)]}
    assert gc.plan(
        repos,
        {},
        keep=1,
        now=NOW,
        min_age=0,
        children=lambda _r, d: children.get(d, []),
    ) == {"j": [digest(2)]}


@pytest.mark.parametrize(
    ("nodes", "me", "expected"),
    [
        (["m2", "m1", "m3"], "m1", True),
        (["m2", "m3"], "m1", False),
        (["m3", "m2", "m2"], "m2", True),
        ([], "m1", False),
    ],
)
def test_one_collector(nodes, me, expected):
    assert gc.first_collector(nodes, me) is expected


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_registry_tree_read_and_delete(tmp_path):
    """Reads revisions, tags and index children from distribution's layout; delete removes the revision link,
    the tags on it and their index entries, and nothing else."""
    v2 = tmp_path / "docker" / "registry" / "v2"
    manifests = v2 / "repositories" / "condaswarm" / "jupyter" / "_manifests"
    for n in (1, 2):
        _write(manifests / "revisions" / "sha256" / f"{n:064x}" / "link", digest(n))
    _write(manifests / "tags" / "old" / "current" / "link", digest(1))
    _write(
        manifests / "tags" / "old" / "index" / "sha256" / f"{1:064x}" / "link",
        digest(1),
    )
    _write(manifests / "tags" / "new" / "current" / "link", digest(2))
    index = {"mediaType": gc.INDEX_TYPES[1], "manifests": [{"digest": digest(7)}]}
    _write(
        v2 / "blobs" / "sha256" / f"{2:064x}"[:2] / f"{2:064x}" / "data",
        json.dumps(index),
    )
    registry = gc.Registry(tmp_path)
    repos = registry.repositories()
    assert set(repos["condaswarm/jupyter"]["revisions"]) == {digest(1), digest(2)}
    assert repos["condaswarm/jupyter"]["tags"] == {"old": digest(1), "new": digest(2)}
    assert registry.children("condaswarm/jupyter", digest(2)) == [digest(7)]
    assert registry.children("condaswarm/jupyter", digest(1)) == []
    registry.delete("condaswarm/jupyter", digest(1), repos["condaswarm/jupyter"]["tags"])
    after = registry.repositories()["condaswarm/jupyter"]
    assert set(after["revisions"]) == {digest(2)}
    assert after["tags"] == {"new": digest(2)}
    assert not (manifests / "tags" / "old").exists()


def task(node, state="running", readonly=False):
    env = [f"{gc.READONLY_ENV}={gc.READONLY_VALUE}"] if readonly else ["OTHER=1"]
    return {
        "NodeID": node,
        "Status": {"State": state},
        "Spec": {"ContainerSpec": {"Env": env}},
    }


@pytest.mark.parametrize(
    ("tasks", "ready", "readonly", "expected"),
    [
        (
            [task("m1", readonly=True), task("m2", readonly=True)],
            {"m1", "m2"},
            True,
            True,
        ),
        (
            [task("m1", readonly=True), task("m2", state="starting", readonly=True)],
            {"m1", "m2"},
            True,
            False,
        ),
        ([task("m1", readonly=True), task("m2")], {"m1", "m2"}, True, False),
        # A down node (m3, not Ready) keeps its old task: not waited for.
        (
            [task("m1", readonly=True), task("m3", state="assigned")],
            {"m1", "m2"},
            True,
            True,
        ),
        ([task("m1"), task("m2")], {"m1", "m2"}, False, True),
        ([task("m3")], {"m1"}, False, False),
        ([], {"m1"}, False, False),
    ],
    ids=[
        "all-readonly",
        "starting",
        "old-spec",
        "down-node-ignored",
        "writable",
        "none-ready",
        "no-task",
    ],
)
def test_tasks_converged(tasks, ready, readonly, expected):
    assert gc.tasks_converged(tasks, ready, readonly) is expected
