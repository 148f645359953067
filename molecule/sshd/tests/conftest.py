"""Fixtures of the sshd scenario's tests."""

import pytest
from sshclient import node_ip


@pytest.fixture(scope="session")
def askpass(tmp_path_factory):
    path = tmp_path_factory.mktemp("askpass") / "askpass"
    path.write_text('#!/bin/sh\nprintf "%s\\n" "$SSH_TEST_PASSWORD"\n')
    path.chmod(0o700)
    return path


@pytest.fixture(scope="module")
def ip(host):
    return node_ip(host.backend.get_hostname())
