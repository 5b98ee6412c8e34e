"""A real IMAP server for the tests: Debian's Dovecot, started on a loopback port from a configuration in a
temporary folder (no system configuration touched, plain text allowed on 127.0.0.1 only)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import unavailable
from tests.utils import free_port

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = {user}
default_login_user = {login_user}
default_internal_group = {group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@127.0.0.1:{self.port}/INBOX"

    def deliver(self, raw: bytes, name: str) -> Path:
        """Put a message in the mailbox as a delivery agent would (Maildir: tmp/, then new/)."""
        box = self.root / "mail" / self.user
        for folder in (box, box / "tmp", box / "new", box / "cur"):
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, self._uid(), self._gid())
        tmp = box / "tmp" / f"{time.time_ns()}.{name}.test"
        tmp.write_bytes(raw)
        os.chown(tmp, self._uid(), self._gid())
        final = box / "new" / tmp.name
        tmp.rename(final)
        return final

    def _uid(self) -> int:
        return os.getuid() if os.getuid() != 0 else pwd.getpwnam("dovecot").pw_uid

    def _gid(self) -> int:
        return os.getgid() if os.getuid() != 0 else pwd.getpwnam("dovecot").pw_gid


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        unavailable("Dovecot (apt-get install dovecot-imapd)")
    assert binary is not None
    root = Path(tempfile.mkdtemp(prefix="livesupport-dovecot-"))
    port = free_port()
    me = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:  # as root (CI), Dovecot's own unprivileged users run it
        user, login_user, group = "dovecot", "dovenull", "dovecot"
        uid, gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
        os.chmod(root, 0o755)
    else:
        user, login_user, group, uid, gid = me, me, me, os.getuid(), os.getgid()
    (root / "users").write_text("desk:{PLAIN}mailbox-secret\n")
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    if os.getuid() == 0:
        for sub in ("mail", "home", "state"):
            os.chown(root / sub, uid, gid)
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, user=user, login_user=login_user, group=group,
                                    uid=uid, gid=gid))
    errors = root / "start.log"
    with errors.open("wb") as err:  # the daemon keeps its descriptors: no pipes to wait on
        started = subprocess.run([binary, "-c", str(config)], stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                 timeout=30)
    if started.returncode != 0:
        said = errors.read_text()
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"Dovecot could not start: {said.strip()}")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    log = root / "dovecot.log"
                    raise RuntimeError(f"Dovecot did not listen: {log.read_text() if log.exists() else ''}") from None
                time.sleep(0.05)
        yield Dovecot(root, port, "desk", "mailbox-secret")
    finally:
        subprocess.run([binary, "-c", str(config), "stop"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
        shutil.rmtree(root, ignore_errors=True)
