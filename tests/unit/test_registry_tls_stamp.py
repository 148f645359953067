"""The registry's generated CA and certificate: made once, left alone while the stamp matches (no crypto task
runs), made again when their recipe or a file changes. tls.yml runs on localhost into a temporary directory."""

import json
import re
import shutil
from pathlib import Path

import pytest
from ansible_play import ROOT, run_play
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ROLE = ROOT / "roles" / "registry"
FILES = ("ca.key", "ca.crt", "registry.key", "registry.crt")
CRYPTO_TASKS = ("Create the CA and server private keys", "Self-sign the CA certificate", "Sign the server certificate")


def _tls(tmp_path, run, **extra):
    tls_dir = tmp_path / "tls"
    variables = {
        "registry_tls_dir": str(tls_dir),
        "registry_hostname": "registry.test",
        # Installed on every Debian machine: the package step finds nothing to do.
        "registry__tls_packages": ["dpkg"],
        **extra,
    }
    proc = run_play(
        tmp_path / f"run{run}",
        [{"ansible.builtin.include_tasks": str(ROLE / "tasks" / "tls.yml")}],
        vars_files=[ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml"],
        extra=variables,
    )
    return tls_dir, proc.stdout


def _changed(out):
    return int(re.search(r"localhost\s*:.*changed=(\d+)", out).group(1))


def _state(tls_dir):
    return {name: ((tls_dir / name).read_bytes(), (tls_dir / name).stat().st_mode & 0o777) for name in FILES}


def _cert(tls_dir, name):
    return x509.load_pem_x509_certificate((tls_dir / f"{name}.crt").read_bytes())


@pytest.fixture(scope="module")
def made_once(tmp_path_factory):
    """One generation for the module (the crypto run is the slow part); each test changes its own copy."""
    tmp_path = tmp_path_factory.mktemp("made")
    tls_dir, out = _tls(tmp_path, 1)
    assert _changed(out) > 0
    assert all(task in out for task in CRYPTO_TASKS), out
    stamp = json.loads((tls_dir / "tls.stamp").read_text())
    assert set(stamp["recipe"]) == {"ca", "registry"} and set(stamp["files"]) == set(FILES)
    assert {name: mode for name, (_, mode) in _state(tls_dir).items()} == {
        "ca.key": 0o600,
        "ca.crt": 0o644,
        "registry.key": 0o600,
        "registry.crt": 0o644,
    }
    return tls_dir


@pytest.fixture
def made(tmp_path, made_once):
    """The generated directory, copied with its modes to where _tls(tmp_path, ...) works."""
    return Path(shutil.copytree(made_once, tmp_path / "tls"))


def test_rerun_reads_the_stamp_and_runs_no_crypto_task(tmp_path, made):
    before = _state(made)
    _, out = _tls(tmp_path, 2)
    assert _changed(out) == 0, out
    assert not any(task in out for task in CRYPTO_TASKS), out
    assert _state(made) == before


def test_new_subject_alt_name_makes_a_new_certificate(tmp_path, made):
    before = _state(made)
    _, out = _tls(tmp_path, 2, registry_tls_subject_alt_names=["DNS:mirror.test"])
    after = _state(made)
    assert after["registry.crt"] != before["registry.crt"]
    assert after["ca.crt"] == before["ca.crt"] and after["ca.key"] == before["ca.key"]
    names = _cert(made, "registry").extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["registry.test", "mirror.test"]
    # The stamp now holds the new recipe: the next run changes nothing.
    _, out = _tls(tmp_path, 3, registry_tls_subject_alt_names=["DNS:mirror.test"])
    assert _changed(out) == 0, out


def test_new_validity_makes_a_new_certificate_though_community_crypto_would_keep_it(tmp_path, made):
    before = _state(made)
    _tls(tmp_path, 2, registry_tls_valid_days=30)
    after = _state(made)
    assert after["registry.crt"] != before["registry.crt"]
    assert after["registry.key"] == before["registry.key"] and after["ca.crt"] == before["ca.crt"]
    cert = _cert(made, "registry")
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days in (29, 30)


def test_the_recipe_is_what_the_crypto_tasks_read(tmp_path, made):
    """A curve changed in the recipe alone (no role variable) gives the server a new key on that curve."""
    before = _state(made)
    proc = run_play(
        tmp_path / "recipe",
        [
            {
                "ansible.builtin.set_fact": {
                    "_registry_tls_recipe": "{{ _registry_tls_recipe | combine({'registry': {'curve': 'secp256r1'}}, "
                    "recursive=true) }}"
                }
            },
            {"ansible.builtin.include_tasks": str(ROLE / "tasks" / "tls.yml")},
        ],
        vars_files=[ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml"],
        extra={"registry_tls_dir": str(made), "registry_hostname": "registry.test", "registry__tls_packages": ["dpkg"]},
    )
    after = _state(made)
    assert after["registry.key"] != before["registry.key"] and after["registry.crt"] != before["registry.crt"]
    assert after["ca.key"] == before["ca.key"] and after["ca.crt"] == before["ca.crt"]
    key = load_pem_private_key((made / "registry.key").read_bytes(), None)
    assert isinstance(key.curve, ec.SECP256R1), proc.stdout
    assert _cert(made, "registry").public_key().public_numbers() == key.public_key().public_numbers()


def test_a_loosened_key_mode_is_put_back_and_the_pair_kept(tmp_path, made):
    before = _state(made)
    (made / "ca.key").chmod(0o644)
    _, out = _tls(tmp_path, 2)
    assert _changed(out) > 0
    assert _state(made) == before


def test_a_replaced_certificate_is_made_again(tmp_path, made):
    before = _state(made)
    (made / "registry.crt").write_bytes(before["ca.crt"][0])  # a valid certificate, but not the server's
    _tls(tmp_path, 2)
    after = _state(made)
    assert after["registry.crt"][0] not in (before["ca.crt"][0], b"")
    assert _cert(made, "registry").subject.rfc4514_string() == "CN=registry.test"
