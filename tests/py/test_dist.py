"""What the package exposes to the dynamic linker, and a release wheel as
a user installs it.

The wheel test takes a wheel from $PSQLPY_TEST_WHEEL (a .whl file, or a
directory such as wheelhouse/ in which the wheel for this Python is picked;
scripts/run-tests.sh builds one with scripts/build-wheels.sh).  Without it
the test is skipped on a developer's machine and fails under CI ($CI set),
so CI cannot pass without having tested a wheel.  The wheel goes into a
fresh venv and runs a query in a mount namespace where the system's libpq
file is replaced by /dev/null: the libpq the wheel carries must be enough.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import psqlpy

PKG = os.path.dirname(os.path.abspath(psqlpy.__file__))
SMOKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools", "dist_smoke.py")
ENV_WHEEL = "PSQLPY_TEST_WHEEL"


def _exported(path: str) -> list[str]:
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True,
                         capture_output=True, text=True).stdout
    return sorted(line.split()[-1] for line in out.splitlines() if line.strip())


# ---------------------------------------------------------------------------
# the installed extension and plugins (any build)


@pytest.mark.skipif(shutil.which("nm") is None, reason="nm (binutils) not installed")
def test_extension_exports_only_its_init_function():
    (so,) = glob.glob(os.path.join(PKG, "_psqlpy.*.so"))
    assert _exported(so) == ["PyInit__psqlpy"]


def test_every_codec_plugin_loads_from_the_installed_package():
    """Plugins link nothing from the extension: each one, the examples too,
    loads into a fresh interpreter (the built-in ones at import)."""
    code = textwrap.dedent("""
        import glob, os, psqlpy
        pkg = os.path.dirname(psqlpy.__file__)
        for p in sorted(glob.glob(os.path.join(pkg, "codecs", "examples", "*.so"))):
            psqlpy.load_codec_plugin(p)
        maps = open("/proc/self/maps").read()
        plugins = glob.glob(os.path.join(pkg, "codecs", "**", "*.so"), recursive=True)
        missing = [p for p in plugins if os.path.realpath(p) not in maps]
        print(len(plugins), missing)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=os.path.dirname(SMOKE))
    assert proc.returncode == 0, proc.stderr
    count, missing = proc.stdout.split(" ", 1)
    assert int(count) > 10 and missing.strip() == "[]", proc.stdout


# ---------------------------------------------------------------------------
# a release wheel in a fresh venv, with the system libpq hidden


def _wheel_for_this_python() -> str:
    given = os.environ.get(ENV_WHEEL)
    if not given:
        msg = f"no wheel to test: set {ENV_WHEEL} (scripts/build-wheels.sh builds one)"
        if os.environ.get("CI"):
            pytest.fail(msg + "; under CI this test must run")
        pytest.skip(msg)
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    if os.path.isdir(given):
        found = sorted(glob.glob(os.path.join(given, f"psqlpy-*-{tag}-{tag}-*.whl")))
        if not found:
            if glob.glob(os.path.join(given, "psqlpy-*.whl")):
                pytest.skip(f"{given} has no {tag} wheel (wheels for other Pythons only)")
            pytest.fail(f"{ENV_WHEEL}={given}: no psqlpy wheel in it")
        return found[-1]
    if not os.path.isfile(given):
        pytest.fail(f"{ENV_WHEEL}={given}: no such file")
    if f"-{tag}-" not in os.path.basename(given):
        pytest.skip(f"{os.path.basename(given)} is not a {tag} wheel")
    return given


def _system_libpq_files() -> list[str]:
    """The real files behind the libpq.so.5 the dynamic linker would find."""
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    paths = {m.group(1) for m in re.finditer(r"libpq\.so\.5\b.*=> (\S+)", out)}
    return sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    wheel = _wheel_for_this_python()
    venv = tmp_path_factory.mktemp("wheel-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-index", "--no-deps", wheel],
                   check=True, stdin=subprocess.DEVNULL)
    return wheel, py


def test_wheel_is_tagged_manylinux(wheel_venv):
    wheel, _ = wheel_venv
    assert re.search(r"-manylinux_\d+_\d+_x86_64\.whl$|manylinux_\d+_\d+_aarch64\.whl$",
                     os.path.basename(wheel)), wheel


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare (util-linux) not installed")
def test_wheel_runs_a_query_with_the_system_libpq_hidden(wheel_venv, dsn):
    _, py = wheel_venv
    hidden = _system_libpq_files()
    assert hidden, "no system libpq.so.5 found: nothing to hide (ldconfig -p)"
    # in a private mount namespace: /dev/null over each real libpq file, then
    # the venv's interpreter; the mounts vanish with the namespace
    script = 'for f in "$@"; do [ "$f" = -- ] && break; mount --bind /dev/null "$f" || exit 97; done; ' \
             'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
    unshare = ["unshare", "-m", "--propagation", "private"] if os.geteuid() == 0 \
        else ["unshare", "-r", "-m", "--propagation", "private"]
    cmd = [*unshare, "sh", "-c", script, "sh", *hidden, "--",
           py, SMOKE, "--dsn", dsn, "--allocator", "jemalloc",
           "--bundled-libpq", "--no-system-libpq"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(SMOKE), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert '"allocator": "jemalloc"' in proc.stdout
    assert "psqlpy.libs/libpq-" in proc.stdout
