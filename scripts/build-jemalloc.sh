#!/usr/bin/env bash
# Build a private jemalloc for the Python extension and print its prefix.
#
# Debian's libjemalloc.so.2 uses initial-exec TLS and cannot be loaded into
# a running Python process with dlopen() ("cannot allocate memory in static
# TLS block").  This builds the same jemalloc (Debian's source package,
# fetched from the Debian archive with apt-get source) as a static,
# position-independent library with
#   --disable-initial-exec-tls       loadable from a dlopen()ed extension
#   --with-jemalloc-prefix=pgdje_    its malloc never replaces the process's
# into a cache directory, once.  CMake picks it up through PGD_JEMALLOC_ROOT
# (scripts/setup.sh exports it for pip install).
#
#   bash scripts/build-jemalloc.sh [CACHE_DIR]   -> prints the install prefix
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/psqlpy/jemalloc}
prefix=$cache/install
if [[ -f $prefix/lib/libjemalloc_pic.a && -f $prefix/include/jemalloc/jemalloc.h ]]; then
    echo "$prefix"
    exit 0
fi
apt_ensure dpkg-dev bzip2 xz-utils >&2

work=$cache/work
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/parts"
# A private apt configuration that only knows Debian's source index, so the
# machine's own apt set-up is left untouched.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
cat >"$work/sources.list" <<SRC
deb-src http://deb.debian.org/debian $codename main
SRC
apt_src=(apt-get -q -o Dir::Etc::SourceList="$work/sources.list"
         -o Dir::Etc::SourceParts="$work/parts" -o Dir::State::Lists="$work/lists"
         -o Acquire::Retries=3)
(cd "$work" && "${apt_src[@]}" update && "${apt_src[@]}" source --download-only jemalloc) \
    >"$cache/fetch.log" 2>&1 || { cat "$cache/fetch.log" >&2; exit 1; }
tarball=$(ls "$work"/jemalloc_*.orig.tar.* | head -n 1)
mkdir -p "$work/src"
tar -xf "$tarball" -C "$work/src" --strip-components=1
echo "build-jemalloc: building $(basename "$tarball") (log: $cache/build.log)" >&2
if ! (
    cd "$work/src"
    ./configure --prefix="$prefix" --with-jemalloc-prefix=pgdje_ \
        --with-private-namespace=pgdje_internal_ --disable-initial-exec-tls \
        --disable-cxx --disable-stats --disable-libdl --with-pic &&
        make -j "${PSQLPY_JOBS:-2}" build_lib_static
) >"$cache/build.log" 2>&1; then
    tail -n 30 "$cache/build.log" >&2
    echo "build-jemalloc: build failed" >&2
    exit 1
fi
(
    cd "$work/src"
    mkdir -p "$prefix/lib" "$prefix/include/jemalloc"
    cp lib/libjemalloc_pic.a "$prefix/lib/"
    cp include/jemalloc/jemalloc.h "$prefix/include/jemalloc/"
)
rm -rf "$work"
echo "$prefix"
