"""Fixtures of the ha scenario: those of molecule/jupyter_stack (manager, cafile, user), by import;
report comes from molecule/conftest.py."""

import importlib.util

# Points stack_helpers at this scenario's nodes before the jupyter_stack fixtures import it.
from ha_helpers import STACK_TESTS

_spec = importlib.util.spec_from_file_location("jupyter_stack_conftest", STACK_TESTS / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

manager, cafile, user = _fixtures.manager, _fixtures.cafile, _fixtures.user
