"""Services get their limits from the systemd manager (they never read limits.conf)."""

HANDLER = "RUNNING HANDLER [condaswarm.cluster.limits : Re-execute the systemd manager]"


def _manager(host):
    out = host.check_output("systemctl show --property DefaultLimitNOFILESoft --property DefaultLimitNOFILE")
    return dict(line.split("=", 1) for line in out.splitlines())


def _fresh_unit(host):
    # A transient service started now: what a unit without its own LimitNOFILE= gets.
    return host.check_output("systemd-run --quiet --wait --pipe --collect sh -c 'ulimit -Sn; ulimit -Hn'").split()


def test_manager_reports_the_defaults(host):
    assert _manager(host) == {"DefaultLimitNOFILESoft": "4096", "DefaultLimitNOFILE": "16384"}


def test_a_fresh_unit_gets_them(host):
    assert _fresh_unit(host) == ["4096", "16384"]


def test_a_change_re_executes_the_manager_once(host, converge):
    try:
        changed = converge(extra_vars={"limits_systemd_defaults": {"NOFILE": "2048:8192"}})
        assert changed.rc == 0, changed.output
        assert changed.changed == 1, changed.output  # the drop-in (the re-exec handler reports ok)
        assert HANDLER in changed.output
        assert _manager(host) == {"DefaultLimitNOFILESoft": "2048", "DefaultLimitNOFILE": "8192"}
        assert _fresh_unit(host) == ["2048", "8192"]

        again = converge(extra_vars={"limits_systemd_defaults": {"NOFILE": "2048:8192"}})
        assert again.rc == 0, again.output
        assert again.changed == 0, again.output
        assert HANDLER not in again.output
    finally:
        restored = converge()
        assert restored.rc == 0, restored.output
    assert _manager(host) == {"DefaultLimitNOFILESoft": "4096", "DefaultLimitNOFILE": "16384"}
