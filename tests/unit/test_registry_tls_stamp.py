"""The registry's generated CA and certificate: made once, left alone while the stamp matches, made again
when the recipe or a file changes. generate.yml runs on localhost into a temporary directory."""

import re

import pytest
from ansible_play import ROOT, run_play

ROLE = ROOT / "roles" / "registry"
FILES = ("ca.key", "ca.crt", "registry.key", "registry.crt")


def _generate(tmp_path, run, **extra):
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir(mode=0o700, exist_ok=True)  # tls.yml makes it before generate.yml runs
    variables = {
        "registry_tls_dir": str(tls_dir),
        "registry_hostname": "registry.test",
        # Installed on every Debian machine: the package step finds nothing to do.
        "registry__tls_packages": ["dpkg"],
        **extra,
    }
    proc = run_play(
        tmp_path / f"run{run}",
        [{"ansible.builtin.include_tasks": str(ROLE / "tasks" / "generate.yml")}],
        vars_files=[ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml"],
        extra=variables,
    )
    return tls_dir, proc.stdout


def _changed(out):
    return int(re.search(r"localhost\s*:.*changed=(\d+)", out).group(1))


def _state(tls_dir):
    return {name: ((tls_dir / name).read_bytes(), (tls_dir / name).stat().st_mode & 0o777) for name in FILES}


@pytest.fixture
def made(tmp_path):
    tls_dir, out = _generate(tmp_path, 1)
    assert _changed(out) > 0
    assert (tls_dir / "recipe.json").is_file()
    return tls_dir


def test_rerun_reads_the_stamp_and_runs_no_crypto_task(tmp_path, made):
    before = _state(made)
    _, out = _generate(tmp_path, 2)
    assert _changed(out) == 0, out
    # The block of crypto tasks was skipped as a whole.
    assert re.search(r"TASK \[Create the CA and server private keys\][^\n]*\n[^\n]*\nskipping", out), out
    assert _state(made) == before


def test_new_subject_alt_name_makes_a_new_certificate(tmp_path, made):
    before = _state(made)
    _, out = _generate(tmp_path, 2, registry_tls_subject_alt_names=["DNS:mirror.test"])
    after = _state(made)
    assert after["registry.crt"] != before["registry.crt"]
    assert after["ca.crt"] == before["ca.crt"] and after["ca.key"] == before["ca.key"]
    # The stamp now holds the new recipe: the next run changes nothing.
    _, out = _generate(tmp_path, 3, registry_tls_subject_alt_names=["DNS:mirror.test"])
    assert _changed(out) == 0, out


def test_a_loosened_key_mode_is_put_back(tmp_path, made):
    (made / "ca.key").chmod(0o644)
    _, out = _generate(tmp_path, 2)
    assert (made / "ca.key").stat().st_mode & 0o777 == 0o600
    assert _changed(out) > 0
