# Copyright: condaswarm.cluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host_state module reads from a host: pure parsers and one collector.

The parsers take the text the system's own tools print (``dpkg-query``, ``getent``, ``id``,
``sshd -T``, ``ssh -V``, ``ssh -Q``, ``ssh-keygen -l``, ``systemctl show``) and return plain data;
files, directories and PAM stacks are read with Python. ``HostState`` runs the tools through a
``run(argv) -> (rc, stdout, stderr)`` callable (``AnsibleModule.run_command`` in the module, a fake
in the tests) and finds them through ``which(name) -> path or None``. Only the standard library is
imported: the module runs on the nodes' own Python (Debian 12 and 13).
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import stat

LOCALE_C = {"LC_ALL": "C", "LANG": "C", "LC_MESSAGES": "C"}

DPKG_FORMAT = "${Package}\t${Architecture}\t${Version}\t${db:Status-Want}\t${db:Status-Status}\n"
SYSTEMCTL_PROPERTIES = "Id,LoadState,ActiveState,SubState,UnitFileState"
SSHD_MATCH_SPEC = "user={user},host=localhost,addr=127.0.0.1"

# Keywords that sshd may print more than once (one value per line), or whose one line lists several
# values (authorizedkeysfile): always a list, even with one value, so that callers need no type test.
SSHD_LIST_KEYWORDS = frozenset(
    {
        "port",
        "listenaddress",
        "hostkey",
        "hostcertificate",
        "allowusers",
        "denyusers",
        "allowgroups",
        "denygroups",
        "acceptenv",
        "setenv",
        "subsystem",
        "authorizedkeysfile",
    }
)
SSHD_SPLIT_KEYWORDS = frozenset({"authorizedkeysfile"})
PAM_TYPES = ("account", "auth", "password", "session")
CHUNK = 1024 * 1024


class HostStateError(Exception):
    """A question the host cannot answer: the module fails with msg (and the details as keys).

    The path at fault goes under ``file``, never ``path``: fail_json would add that path's stat to the result.
    """

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details

    def __str__(self):
        return self.msg


# Files


def normalize_files(items):
    """The files option as [(path, contents)], each path once (contents if any entry asks for it)."""
    wanted = {}
    for item in items:
        if isinstance(item, str):
            path, contents = item, False
        elif isinstance(item, dict):
            unknown = sorted(set(item) - {"path", "contents"})
            if unknown:
                raise HostStateError(f"files: unknown key(s) {', '.join(unknown)} in {item!r} (known: path, contents)")
            path = item.get("path")
            contents = _boolean(item.get("contents", False), f"files: contents of {path!r}")
        else:
            raise HostStateError(f"files: each entry is a path or a dict with path (and contents), got {item!r}")
        if not isinstance(path, str) or not path:
            raise HostStateError(f"files: path must be a non-empty string, got {path!r}")
        if not os.path.isabs(path):
            raise HostStateError(f"files: {path!r} is not an absolute path")
        wanted[path] = wanted.get(path, False) or contents
    return list(wanted.items())


def _boolean(value, what):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "on", "1", "true", "y", "t"):
        return True
    if text in ("no", "off", "0", "false", "n", "f", ""):
        return False
    raise HostStateError(f"{what}: {value!r} is not a boolean")


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def file_state(path, contents=False):
    """What is at path, following symlinks like ``stat -L``; a file's SHA-1 and, if asked, its text.

    A path that is not there (or whose parent is not a directory) is {"exists": False}. Anything
    else that cannot be looked at or read raises: a file the role cannot read must never be taken
    for a missing one (it would be replaced, and a secret with it).
    """
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False}
    except OSError as exc:
        raise HostStateError(f"{path}: cannot look at it ({exc.strerror})", file=path) from exc
    if stat.S_ISREG(st.st_mode):
        kind = "file"
    elif stat.S_ISDIR(st.st_mode):
        kind = "directory"
    else:
        kind = "other"
    result = {
        "exists": True,
        "type": kind,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "uid": st.st_uid,
        "gid": st.st_gid,
        "owner": user_name(st.st_uid),
        "group": group_name(st.st_gid),
    }
    if kind == "file":
        digest, data = _read_file(path, keep=contents)
        result["checksum"] = digest
        if contents:
            try:
                result["text"] = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise HostStateError(
                    f"{path}: its contents are not UTF-8 text (byte {exc.start}); compare its checksum instead",
                    file=path,
                ) from exc
    return result


def _read_file(path, keep=False):
    """(sha1 hex, the bytes if keep else None) of a regular file."""
    sha1 = hashlib.sha1()
    kept = []
    try:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                sha1.update(chunk)
                if keep:
                    kept.append(chunk)
    except OSError as exc:
        raise HostStateError(
            f"{path}: exists but cannot be read ({exc.strerror}); run the task with become, or fix its permissions",
            file=path,
        ) from exc
    return sha1.hexdigest(), (b"".join(kept) if keep else None)


# Packages


def parse_dpkg_query(stdout, names):
    """name -> {installed, version, selection, status} from dpkg-query's DPKG_FORMAT lines.

    dpkg-query prints its rows sorted by package, one per architecture, and nothing at all for a
    package it has never seen. A name may carry an architecture (``libc6:amd64``); without one an
    installed row wins over another architecture's leftover.
    """
    rows = []
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        package, arch, version, want, status = fields
        rows.append(
            {
                "package": package,
                "arch": arch,
                "entry": {
                    "installed": status == "installed",
                    "version": version,
                    "selection": want or "unknown",
                    "status": status or "not-installed",
                },
            }
        )
    result = {}
    for name in names:
        package, _sep, arch = name.partition(":")
        matches = [r for r in rows if r["package"] == package and (not arch or r["arch"] == arch)]
        matches.sort(key=lambda r: not r["entry"]["installed"])
        if matches:
            result[name] = dict(matches[0]["entry"])
        else:
            result[name] = {"installed": False, "version": "", "selection": "unknown", "status": "not-installed"}
    return result


# Accounts


def parse_getent(stdout):
    """The records getent printed, each split on ':' (name first)."""
    return [line.split(":") for line in stdout.splitlines() if line.strip()]


def parse_getent_group(stdout, names):
    """name -> {exists, gid, members} from ``getent group``; only names getent printed exist."""
    found = {}
    for fields in parse_getent(stdout):
        if len(fields) < 4:
            continue
        members = [m for m in fields[3].split(",") if m]
        found.setdefault(fields[0], {"exists": True, "gid": int(fields[2]), "members": members})
    return {name: dict(found[name]) if name in found else {"exists": False} for name in names}


def parse_getent_passwd(stdout, names):
    """name -> {exists, uid, gid, home, shell} from ``getent passwd`` (the groups come from id)."""
    found = {}
    for fields in parse_getent(stdout):
        if len(fields) < 7:
            continue
        found.setdefault(
            fields[0],
            {"exists": True, "uid": int(fields[2]), "gid": int(fields[3]), "home": fields[5], "shell": fields[6]},
        )
    return {name: dict(found[name]) if name in found else {"exists": False} for name in names}


def parse_id_groups(stdout):
    """The group names ``id -Gn`` printed, the primary group first (a group without a name: its number)."""
    return stdout.split()


# OpenSSH


def parse_ssh_version(text):
    """'9.2p1' from 'OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL ...' (ssh -V), '' if not OpenSSH."""
    match = re.search(r"OpenSSH_(\d+(?:\.\d+)*(?:p\d+)?)", text or "")
    return match.group(1) if match else ""


def parse_ssh_query(stdout):
    """The names ``ssh -Q <query>`` listed, one per line."""
    return [line.strip() for line in stdout.splitlines() if line.strip()]


def parse_sshd_config(stdout):
    """keyword -> value (str) or values (list) from ``sshd -T``.

    Keywords are lower-case as sshd prints them. A keyword printed more than once, or one of
    SSHD_LIST_KEYWORDS, is a list (authorizedkeysfile: one item per file of its line).
    """
    values = {}
    for raw in stdout.splitlines():
        line = raw.strip()
        if not line:
            continue
        keyword, _sep, value = line.partition(" ")
        keyword = keyword.lower()
        value = value.strip()
        if keyword in SSHD_SPLIT_KEYWORDS:
            values.setdefault(keyword, []).extend(value.split())
        else:
            values.setdefault(keyword, []).append(value)
    return {
        keyword: found if keyword in SSHD_LIST_KEYWORDS or len(found) > 1 else found[0]
        for keyword, found in values.items()
    }


def expand_keyfile(pattern, user, uid, home):
    """One AuthorizedKeysFile entry as sshd opens it: %% %h %u %U expanded, relative to the home directory.

    sshd_config(5) TOKENS: AuthorizedKeysFile accepts %%, %h, %U and %u; sshd refuses any other
    token (and a lone % at the end), so they raise here too rather than name a file sshd never reads.
    """
    tokens = {"%": "%", "h": home, "u": user, "U": str(uid)}
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char != "%":
            out.append(char)
            i += 1
            continue
        if i + 1 >= len(pattern) or pattern[i + 1] not in tokens:
            token = pattern[i : i + 2]
            raise HostStateError(
                f"AuthorizedKeysFile {pattern!r}: sshd does not expand {token!r} (it knows %%, %h, %u and %U)"
            )
        out.append(tokens[pattern[i + 1]])
        i += 2
    path = "".join(out)
    if not path.startswith("/"):
        path = home.rstrip("/") + "/" + path
    return path


def keyfiles(effective, user, uid, home):
    """The absolute paths sshd reads the user's keys from (AuthorizedKeysFile, 'none' left out), each once."""
    entries = effective.get("authorizedkeysfile", [])
    if isinstance(entries, str):
        entries = entries.split()
    result = []
    for entry in entries:
        if entry == "none":
            continue
        path = expand_keyfile(entry, user, uid, home)
        if path not in result:
            result.append(path)
    return result


def count_keys(stdout):
    """How many keys ``ssh-keygen -lf <file>`` listed ('256 SHA256:... comment (ED25519)' lines)."""
    return sum(1 for line in stdout.splitlines() if re.match(r"\d+ [A-Za-z0-9]+:\S", line))


def parse_key_fingerprint(stdout):
    """{bits, fingerprint, type} of the first key ``ssh-keygen -lf <file>`` listed, {} if it listed none.

    '256 SHA256:abc root@h (ED25519)': bits 256, fingerprint SHA256:abc, type ED25519.
    """
    for line in stdout.splitlines():
        match = re.match(r"(\d+) ([A-Za-z0-9]+:\S+) .*\((\S+)\)\s*$", line)
        if match:
            return {"bits": int(match.group(1)), "fingerprint": match.group(2), "type": match.group(3)}
    return {}


def sshd_option_args(options):
    """-o keyword=value arguments for sshd -T (a list value: space-separated, a boolean: yes/no)."""
    args = []
    for keyword, value in (options or {}).items():
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, (list, tuple)):
            text = " ".join(str(v) for v in value)
        else:
            text = str(value)
        args += ["-o", f"{keyword}={text}"]
    return args


# PAM


def pam_lines(text):
    """The logical lines of a PAM file as libpam reads them: '#' starts a comment anywhere, a
    backslash at the end of a line joins the next one, blank lines are dropped."""
    lines = []
    pending = ""
    for raw in text.splitlines():
        cut = raw.split("#", 1)
        line = cut[0]
        if len(cut) == 1 and line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            lines.append(line)
    if pending.strip():
        lines.append(pending.strip())
    return lines


PAM_RULE = re.compile(r"(?P<type>\S+)\s+(?P<control>\[[^\]]*\]|\S+)\s+(?P<module>\S+)\s*(?P<args>.*)$")


def split_pam_line(line):
    """(type, control, module, args) of a rule line, a [bracketed] control kept whole; None if not a rule."""
    match = PAM_RULE.match(line.strip())
    if not match:
        return None
    return match.group("type"), match.group("control"), match.group("module"), match.group("args")


def _pam_path(pam_dir, name):
    return name if name.startswith("/") else os.path.join(pam_dir, name)


def _pam_read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        raise HostStateError(f"{path}: cannot read this PAM file ({exc.strerror})", file=path) from exc


def pam_stack(pam_dir, service, module, pam_type):
    """{exists, has_module} of one PAM service.

    has_module: the stack, or a file it pulls in (``@include X``, ``<type> include|substack X``,
    followed recursively, each file once), has a ``<type>`` rule (``-`` prefix allowed, simple or
    bracketed control) that loads ``module`` (with or without a directory).
    """
    path = _pam_path(pam_dir, service)
    if not os.path.isfile(path):
        return {"exists": False, "has_module": False}
    wanted_type = pam_type.lower()
    wanted_module = os.path.basename(module)
    queue = [path]
    seen = set()
    while queue:
        current = queue.pop(0)
        key = os.path.realpath(current)
        if key in seen:
            continue
        seen.add(key)
        text = _pam_read(current)
        if text is None:  # an include that is not there: libpam skips it too
            continue
        for line in pam_lines(text):
            if line.startswith("@include"):
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "@include":
                    queue.append(_pam_path(pam_dir, parts[1]))
                continue
            rule = split_pam_line(line)
            if rule is None:
                continue
            rule_type, control, target, _args = rule
            if rule_type.lstrip("-").lower() != wanted_type:
                continue
            if control in ("include", "substack"):
                queue.append(_pam_path(pam_dir, target))
            elif os.path.basename(target) == wanted_module:
                return {"exists": True, "has_module": True}
    return {"exists": True, "has_module": False}


# systemd


def parse_systemctl_show(stdout, names):
    """name -> {exists, active, sub, enabled} from ``systemctl show`` of names (one block each, in order)."""
    blocks = []
    current = {}
    for line in stdout.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, _sep, value = line.partition("=")
        current[key] = value
    if current:
        blocks.append(current)
    if len(blocks) != len(names):
        raise HostStateError(
            f"systemctl show printed {len(blocks)} unit(s) for {len(names)} name(s): {', '.join(names)}",
            stdout=stdout,
        )
    return {
        name: {
            "exists": block.get("LoadState", "not-found") != "not-found",
            "active": block.get("ActiveState", ""),
            "sub": block.get("SubState", ""),
            "enabled": block.get("UnitFileState", ""),
        }
        # Lengths are checked above; zip(strict=) would need Python 3.10 on the host.
        for name, block in zip(names, blocks)  # noqa: B905
    }


# The collector


def _unique(names):
    return list(dict.fromkeys(names))


class HostState:
    """Answers the module's options on this host; every method is read-only."""

    def __init__(self, run, which):
        self._run = run
        self._which = which
        self._tools = {}
        self._passwd = {}

    def tool(self, name, needed_for):
        if name not in self._tools:
            self._tools[name] = self._which(name)
        if not self._tools[name]:
            raise HostStateError(f"{name} was not found on the host ({needed_for} needs it)")
        return self._tools[name]

    def run(self, argv, ok=(0,), what=None):
        rc, stdout, stderr = self._run(argv)
        if rc not in ok:
            raise HostStateError(
                f"{what or argv[0]} failed (rc {rc}): {(stderr or stdout).strip()}",
                cmd=argv,
                rc=rc,
                stdout=stdout,
                stderr=stderr,
            )
        return stdout, stderr

    # The options, each answered by the method of the same name.
    SECTIONS = ("files", "packages", "groups", "users", "pam", "sshd", "services")

    def collect(self, params):
        """The result sections for the options given (None: not asked)."""
        return {name: getattr(self, name)(params[name]) for name in self.SECTIONS if params.get(name) is not None}

    def files(self, items):
        return {path: file_state(path, contents) for path, contents in normalize_files(items)}

    def packages(self, names):
        names = _unique(names)
        if not names:
            return {}
        dpkg_query = self.tool("dpkg-query", "packages (a Debian-based host)")
        # rc 1: some package dpkg has never seen (the others are still printed).
        stdout, _stderr = self.run(
            [dpkg_query, "--show", f"--showformat={DPKG_FORMAT}", *names], ok=(0, 1), what="dpkg-query"
        )
        return parse_dpkg_query(stdout, names)

    def groups(self, names):
        names = _unique(names)
        if not names:
            return {}
        getent = self.tool("getent", "groups")
        # rc 2: one or more names not found.
        stdout, _stderr = self.run([getent, "group", *names], ok=(0, 2), what="getent group")
        return parse_getent_group(stdout, names)

    def passwd(self, names):
        """getent passwd of the names not asked before (one call), with id -Gn for those that exist."""
        todo = [n for n in _unique(names) if n not in self._passwd]
        if todo:
            getent = self.tool("getent", "users")
            stdout, _stderr = self.run([getent, "passwd", *todo], ok=(0, 2), what="getent passwd")
            for name, entry in parse_getent_passwd(stdout, todo).items():
                if entry["exists"]:
                    entry["groups"] = self.id_groups(name)
                self._passwd[name] = entry
        return {name: dict(self._passwd[name]) for name in names}

    def id_groups(self, name):
        id_tool = self.tool("id", "users")
        rc, stdout, stderr = self._run([id_tool, "-Gn", name])
        # A group without a name makes id exit 1 after printing its number with the others.
        if rc != 0 and not stdout.strip():
            raise HostStateError(f"id -Gn {name} failed (rc {rc}): {stderr.strip()}", rc=rc, stderr=stderr)
        return parse_id_groups(stdout)

    def users(self, names):
        return self.passwd(names)

    def pam(self, options):
        pam_dir = options.get("dir") or "/etc/pam.d"
        module = options.get("module") or "pam_limits.so"
        pam_type = options.get("type") or "session"
        if pam_type.lower() not in PAM_TYPES:
            raise HostStateError(f"pam: type {pam_type!r} is none of {', '.join(PAM_TYPES)}")
        return {
            service: pam_stack(pam_dir, service, module, pam_type) for service in _unique(options.get("services") or [])
        }

    def sshd(self, options):
        binary = options.get("binary") or "/usr/sbin/sshd"
        users = _unique(options.get("users") or [])
        extra = sshd_option_args(options.get("options"))
        queries = options.get("queries")
        if queries is None:
            queries = ["kex", "cipher", "mac"]
        ssh = self._which("ssh")
        ssh_keygen = self._which("ssh-keygen")
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)) or not ssh or not ssh_keygen:
            return {"present": False}

        _rc, stdout, stderr = self._run([ssh, "-V"])
        version = parse_ssh_version(stderr + "\n" + stdout)
        supported = {}
        for query in _unique(queries):
            out, _err = self.run([ssh, "-Q", query], what=f"ssh -Q {query}")
            supported[query] = parse_ssh_query(out)
        effective = self.sshd_t([binary, "-T", *extra])

        result_users = {}
        accounts = self.passwd(users) if users else {}
        for name in users:
            account = accounts[name]
            if not account["exists"]:
                result_users[name] = {"exists": False}
                continue
            user_effective = self.sshd_t([binary, "-T", "-C", SSHD_MATCH_SPEC.format(user=name), *extra])
            files = keyfiles(user_effective, name, account["uid"], account["home"])
            valid = 0
            for path in files:
                if os.path.isfile(path):
                    # rc 255 for a file without a valid key: nothing to count, not an error.
                    _rc, out, _err = self._run([ssh_keygen, "-lf", path])
                    valid += count_keys(out)
            result_users[name] = {
                "exists": True,
                "uid": account["uid"],
                "home": account["home"],
                "groups": account["groups"],
                "effective": user_effective,
                "keyfiles": files,
                "valid_keys": valid,
            }
        host_keys = {}
        for path in _unique(options.get("host_keys") or []):
            host_keys[path] = {"exists": False}
            if os.path.isfile(path):
                # rc 255 for a file that holds no key: reported as exists without a fingerprint.
                _rc, out, _err = self._run([ssh_keygen, "-lf", path])
                host_keys[path] = {"exists": True, **parse_key_fingerprint(out)}
        return {
            "present": True,
            "version": version,
            "supported": supported,
            "effective": effective,
            "users": result_users,
            "host_keys": host_keys,
        }

    def sshd_t(self, argv):
        """sshd's effective settings; a broken configuration fails with sshd's own message."""
        try:
            stdout, _stderr = self.run(argv, what=" ".join(argv[:4]))
        except HostStateError as exc:
            if "Missing privilege separation directory" in exc.details.get("stderr", ""):
                # Debian's sshd -T wants /run/sshd, which the ssh service creates when it starts.
                exc.msg += " (it exists while the ssh service runs: start the service first)"
            elif os.geteuid() != 0:
                exc.msg += " (sshd -T reads the host keys, which only root may: run the task with become)"
            raise
        return parse_sshd_config(stdout)

    def services(self, names):
        names = _unique(names)
        if not names:
            return {}
        systemctl = self.tool("systemctl", "services (a host run by systemd)")
        stdout, _stderr = self.run(
            [systemctl, "show", f"--property={SYSTEMCTL_PROPERTIES}", "--", *names], what="systemctl show"
        )
        return parse_systemctl_show(stdout, names)
