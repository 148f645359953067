"""Placement that survives a second failure: the per-node cap the role deploys, and what the engine does
with a cap at the edge of a start-first update's room (every worker's slots but one taken)."""

import json
import re

import pytest
from stack_helpers import MANAGER, SERVICE, STACK_DIR, WORKERS, node

testinfra_hosts = [f"ansible://{MANAGER}"]

PROBE = "placement_probe"


def test_deployed_service_has_the_cap(manager):
    spec = json.loads(manager.check_output(f"docker service inspect {SERVICE}"))[0]["Spec"]
    # molecule.yml gives 2: the role passes a given cap through (auto would set none for 2 workers).
    assert spec["TaskTemplate"]["Placement"].get("MaxReplicas") == 2


def test_every_worker_has_the_image_before_it_runs_a_replica(manager):
    """The role pulled its image on every worker before the deploy (jupyter_stack_prepull). The image is read
    from the role's stack file: test_3's updates gave the service other tags since, which Swarm pulls by
    digest only."""
    compose = manager.check_output(f"cat {STACK_DIR}/compose.yml")
    image = re.search(r"^    image: (\S+)$", compose, re.MULTILINE).group(1)
    for worker in WORKERS:
        assert node(worker).run(f"docker image inspect {image}").rc == 0, worker


@pytest.fixture
def probe(manager):
    """3 idle replicas of the stack's image, at most 2 per worker: 4 slots, so a start-first update has
    exactly one free slot (the case max_replicas_per_node makes delicate, moby/moby#40797)."""
    image = manager.check_output(
        f"docker service inspect {SERVICE} --format '{{{{.Spec.TaskTemplate.ContainerSpec.Image}}}}'"
    )
    manager.check_output(
        f"docker service create --detach=false --quiet --name {PROBE} --replicas 3 --replicas-max-per-node 2"
        f" --constraint node.role==worker --update-order start-first --update-parallelism 1 --no-healthcheck"
        f" --entrypoint sleep {image} infinity"
    )
    yield
    manager.run(f"docker service rm {PROBE}")


def test_start_first_update_with_one_free_slot_converges(manager, probe):
    placed = manager.check_output(
        f"docker service ps {PROBE} --filter desired-state=running --format '{{{{.Node}}}}'"
    ).split()
    assert sorted(set(placed)) == sorted(WORKERS) and len(placed) == 3
    update = manager.run(f"timeout 120 docker service update --detach=false --quiet --force {PROBE}")
    assert update.rc == 0, update.stderr
    states = manager.check_output(
        f"docker service ps {PROBE} --filter desired-state=running --format '{{{{.CurrentState}}}}'"
    ).split("\n")
    assert len(states) == 3 and all(s.startswith("Running") for s in states), states
