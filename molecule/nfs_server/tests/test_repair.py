"""A hand edit of what the role manages (Ganesha's exports, an exported directory's mode and owner) is found by
the next run, in check mode without touching it, and put back by a converge."""

testinfra_hosts = ["ansible://nfs_server-server"]
EXPORTS = "/etc/ganesha/exports.d/condaswarm.conf"


def _pid(host):
    return host.check_output("systemctl show -p MainPID --value nfs-ganesha")


def _state(host):
    notebooks, shared = host.file("/srv/nfs/notebooks"), host.file("/srv/nfs/shared")
    return host.file(EXPORTS).content_string, notebooks.mode, (shared.uid, shared.gid)


def test_hand_edits_are_detected_and_repaired(host, converge):
    wanted = _state(host)
    assert wanted[1:] == (0o770, (1000, 100))
    pid = _pid(host)
    host.check_output(f"echo '# edited by hand' >> {EXPORTS}")
    host.check_output("chmod 0777 /srv/nfs/notebooks && chown 0:0 /srv/nfs/shared")
    edited = _state(host)

    check = converge(check=True)
    assert check.rc == 0, check.output
    # The EXPORT blocks, the directories (one task) and the reload the new blocks would need.
    assert check.changed == 3, check.output
    assert "edited by hand" in check.output  # the diff shows the line that goes
    assert _state(host) == edited

    run = converge()
    assert run.rc == 0, run.output
    assert run.changed == 3, run.output
    assert _state(host) == wanted
    assert _pid(host) == pid  # reloaded, not restarted

    again = converge()
    assert again.rc == 0, again.output
    assert again.changed == 0, again.output
