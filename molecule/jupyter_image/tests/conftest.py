"""Fixtures of the jupyter_image scenario: the nodes by role and the image the role computes."""

import pytest
from ji_helpers import MANAGER, PASSWORD, WORKER, image_ref, node


@pytest.fixture(scope="session")
def manager():
    return node(MANAGER)


@pytest.fixture(scope="session")
def worker():
    return node(WORKER)


@pytest.fixture(scope="session")
def ref():
    return image_ref()


@pytest.fixture(scope="session")
def password_hash(manager, ref):
    """The password hashed by the image's own jupyter_server (argon2)."""
    return manager.check_output(
        f"docker run --rm {ref} python -c "
        f"\"from jupyter_server.auth import passwd; print(passwd('{PASSWORD}', algorithm='argon2'))\""
    ).strip()
