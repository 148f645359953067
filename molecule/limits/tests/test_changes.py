"""The drop-in follows the list, bad input changes nothing, and check mode only reports."""

import re

import pytest

DROPIN = "/etc/security/limits.d/condaswarm.conf"
ALICE_CORE = "alice\t-\tcore\t0"


def _lines(host):
    return [line for line in host.file(DROPIN).content_string.splitlines() if line and not line.startswith("#")]


def _entries_without_alice(host):
    keep = []
    for line in _lines(host):
        domain, kind, item, value = line.split("\t")
        if domain != "alice":
            keep.append({"domain": domain, "type": kind, "item": item, "value": value})
    return keep


def test_removed_entry_disappears(host, converge):
    assert ALICE_CORE in _lines(host)
    assert host.run("su -l alice -c 'ulimit -c'").stdout.strip() == "0"
    shorter = _entries_without_alice(host)
    try:
        run = converge(extra_vars={"limits_entries": shorter})
        assert run.rc == 0, run.output
        assert run.changed == 1, run.output
        assert ALICE_CORE not in _lines(host)
        assert len(_lines(host)) == len(shorter)
        assert host.run("su -l alice -c 'ulimit -c'").stdout.strip() == host.check_output("ulimit -c")
    finally:
        restored = converge()
        assert restored.rc == 0, restored.output
    assert ALICE_CORE in _lines(host)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"domain": "@jupyter", "type": "soft", "item": "nofile", "value": "abc"}, "nofile takes a non-negative"),
        ({"domain": "@jupyter", "type": "soft", "item": "openfiles", "value": 10}, "value of item must be one of"),
        ({"domain": "@jupyter", "type": "-", "item": "nice", "value": "unlimited"}, "nice takes a signed integer"),
    ],
    ids=["nofile-abc", "unknown-item", "nice-unlimited"],
)
def test_bad_entry_fails_before_any_change(host, converge, entry, message):
    before = host.file(DROPIN).sha256sum
    # A valid change comes first in the list: it must not be written either.
    run = converge(extra_vars={"limits_entries": [{"domain": "bob", "item": "nproc", "value": 100}, entry]})
    assert run.rc != 0
    failure = run.output[re.search(r"^(fatal|failed): ", run.output, re.M).start() :]
    assert "limits_entries" in failure
    assert message in failure
    assert run.changed == 0, run.output
    assert host.file(DROPIN).sha256sum == before


def test_check_mode_changes_nothing(host, converge):
    clean = converge(check=True)
    assert clean.rc == 0, clean.output
    assert clean.changed == 0, clean.output

    before = host.file(DROPIN).sha256sum
    shorter = _entries_without_alice(host)
    extra = {"limits_entries": shorter, "limits_systemd_defaults": {"NOFILE": "1024:4096"}}
    run = converge(check=True, extra_vars=extra)
    assert run.rc == 0, run.output
    assert f"-{ALICE_CORE}" in run.output  # the diff shows the line that would go
    assert "-DefaultLimitNOFILE=4096:16384" in run.output
    assert host.file(DROPIN).sha256sum == before
    assert host.check_output("systemctl show --property DefaultLimitNOFILE --value") == "16384"
