"""The per-node cap of the Jupyter replicas: derived from the workers, or given and checked."""

import math

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.jupyter_stack import (
    jupyter_max_replicas_per_node,
)


@pytest.mark.parametrize(
    ("replicas", "nodes", "cap"),
    [
        (3, 3, 2),  # the lab with 3 workers: 2 + 1 + 0 at worst, never 3 on one
        (3, 2, 0),  # 2 workers: a cap below 3 would keep the survivor from the full count
        (3, 1, 0),
        (3, 0, 0),  # workers not known
        (3, 4, 2),  # ceil(4 / 3)
        (3, 5, 1),
        (6, 4, 3),  # ceil(7 / 3)
        (4, 3, 3),  # ceil(5 / 2)
        (2, 3, 0),  # ceil(3 / 2) = 2 is no cap for 2 replicas
        (2, 4, 1),
        (1, 5, 0),  # one replica: nothing to spread
    ],
)
def test_auto(replicas, nodes, cap):
    assert jupyter_max_replicas_per_node("auto", replicas, nodes) == cap


@pytest.mark.parametrize("replicas", range(1, 13))
@pytest.mark.parametrize("nodes", range(3, 9))
def test_auto_keeps_its_promises(replicas, nodes):
    cap = jupyter_max_replicas_per_node("auto", replicas, nodes)
    if cap:
        assert cap < replicas  # a worker's loss leaves a replica serving
        assert cap * (nodes - 1) >= replicas + 1  # one worker down: full count and a start-first update
        assert cap == math.ceil((replicas + 1) / (nodes - 1))  # and no more than that


@pytest.mark.parametrize(("setting", "cap"), [(0, 0), ("0", 0), (2, 2), ("2", 2), (5, 5)])
def test_given_value_is_kept(setting, cap):
    assert jupyter_max_replicas_per_node(setting, 3, 3) == cap


def test_given_value_unchecked_when_workers_unknown():
    assert jupyter_max_replicas_per_node(1, 3, 0) == 1


@pytest.mark.parametrize(("setting", "replicas", "nodes"), [(1, 3, 3), (1, 2, 2), (2, 4, 2)])
def test_no_room_for_start_first_is_refused(setting, replicas, nodes):
    with pytest.raises(AnsibleFilterError, match=r"jupyter_stack_max_replicas_per_node=.* start-first"):
        jupyter_max_replicas_per_node(setting, replicas, nodes)


@pytest.mark.parametrize("setting", [-1, "many", True, "1.5", None])
def test_bad_setting_refused(setting):
    with pytest.raises(AnsibleFilterError, match="jupyter_stack_max_replicas_per_node"):
        jupyter_max_replicas_per_node(setting, 3, 3)
