"""A PostgreSQL with the pgvector extension, for tests/py/test_pgvector.py.

Debian 12's archive has no pgvector package for PostgreSQL 15, so the
server comes from PyPI: the ``pgserver`` wheel carries a relocatable
PostgreSQL 16 build with pgvector compiled in.  Only its server binaries
are used (unpacked from the wheel, not installed into any venv), through
tests/py/pgcluster.py like every other test cluster.

    python tests/py/pgvector_server.py --fetch    # scripts/setup.sh runs this

Where: $PSQLPY_PGVECTOR_DIR, else /var/cache/psqlpy-pgvector when run as
root (the server runs as an unprivileged account, which cannot enter
/root), else ~/.cache/psqlpy-pgvector.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

PIN = "pgserver==0.1.4"
PREFIXES = ("pgserver/pginstall/", "pgserver.libs/")  # the binaries find
# their libraries at $ORIGIN/../../../pgserver.libs: the layout is kept


def home() -> str:
    explicit = os.environ.get("PSQLPY_PGVECTOR_DIR")
    if explicit:
        return explicit
    if os.geteuid() == 0:
        return "/var/cache/psqlpy-pgvector"
    return os.path.join(os.path.expanduser("~"), ".cache", "psqlpy-pgvector")


def bindir() -> str:
    return os.path.join(home(), PIN.replace("==", "-"), "pgserver", "pginstall", "bin")


def ready() -> bool:
    return all(os.access(os.path.join(bindir(), b), os.X_OK)
               for b in ("initdb", "pg_ctl", "postgres"))


def fetch(python: str = sys.executable) -> str:
    """Download and unpack the server once; returns its bin directory."""
    if ready():
        return bindir()
    target = os.path.join(home(), PIN.replace("==", "-"))
    os.makedirs(home(), exist_ok=True)
    os.chmod(home(), 0o755)
    machine = platform.machine()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([python, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "--implementation", "cp",
                        "--python-version", "3.11",
                        "--platform", f"manylinux2014_{machine}", PIN, "-d", tmp],
                       check=True, stdin=subprocess.DEVNULL)
        (wheel,) = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        staging = target + ".part"
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
            for info in z.infolist():
                if not info.filename.startswith(PREFIXES) or info.is_dir():
                    continue
                dest = os.path.join(staging, info.filename)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with z.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                # zipfile drops the mode bits: restore them (the server
                # account must read everything and run the binaries)
                mode = (info.external_attr >> 16) & 0o777
                os.chmod(dest, (mode or 0o644) | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        for root, dirs, _ in os.walk(staging):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        os.chmod(staging, 0o755)
        shutil.rmtree(target, ignore_errors=True)
        os.rename(staging, target)
    if not ready():
        raise RuntimeError(f"{wheel} has no server binaries under {PREFIXES[0]}")
    return bindir()


if __name__ == "__main__":
    if sys.argv[1:] != ["--fetch"]:
        sys.exit(__doc__)
    print(fetch())
