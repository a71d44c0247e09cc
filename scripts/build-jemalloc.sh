#!/usr/bin/env bash
# Build a private jemalloc for the Python extension and print its prefix.
#
# Debian's libjemalloc.so.2 uses initial-exec TLS and cannot be loaded into
# a running Python process with dlopen() ("cannot allocate memory in static
# TLS block").  This builds the same jemalloc (the distribution's source
# package, fetched with apt-get source) as a static, position-independent
# library with
#   --disable-initial-exec-tls       loadable from a dlopen()ed extension
#   --with-jemalloc-prefix=pgdje_    its malloc never replaces the process's
# into a cache directory, once.  CMake picks it up through PGD_JEMALLOC_ROOT
# (scripts/setup.sh exports it for pip install; scripts/build-wheels.sh
# requires it).
#
#   bash scripts/build-jemalloc.sh [CACHE_DIR]   -> prints the install prefix
#
# Several set-ups may share one cache (two checkouts, CI and a developer):
# a lock (CACHE_DIR/.lock) lets one build at a time, each build works in
# its own temporary directory, and the finished prefix is renamed into
# place in one step, so CACHE_DIR/install is either complete or absent.
#
# The source index comes from the machine's own apt configuration: every
# "deb" entry of /etc/apt/sources.list, sources.list.d/*.list (one-line
# format) and sources.list.d/*.sources (deb822) -- the places apt-config
# names -- becomes a deb-src entry in a private apt set-up, so the
# machine's apt state is left untouched.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/psqlpy/jemalloc}
prefix=$cache/install
complete() { [[ -f $prefix/lib/libjemalloc_pic.a && -f $prefix/include/jemalloc/jemalloc.h ]]; }
if complete; then
    echo "$prefix"
    exit 0
fi

mkdir -p "$cache"
exec 9>>"$cache/.lock"
if ! flock -n 9; then
    echo "build-jemalloc: waiting for another build in $cache" >&2
    flock 9
fi
if complete; then   # built by the set-up we waited for
    echo "$prefix"
    exit 0
fi
apt_ensure dpkg-dev bzip2 xz-utils >&2

work=$(mktemp -d "$cache/build.XXXXXX")   # in the cache: same file system for the rename
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/parts"

# deb_src_lines: one-line deb-src entries for every deb entry apt is configured with
deb_src_lines() {
    local f SL= SP=
    # where apt reads its sources (Dir::Etc::SourceList / SourceParts; APT_CONFIG is honoured)
    eval "$(apt-config shell SL Dir::Etc::SourceList/f SP Dir::Etc::SourceParts/d)"
    SL=${SL:-/etc/apt/sources.list} SP=${SP:-/etc/apt/sources.list.d/}
    for f in "$SL" "${SP%/}"/*.list; do
        [[ -f $f ]] || continue
        # "deb [options] uri suite [component...]": same line as deb-src
        sed -n -E 's/^[[:space:]]*deb(-src)?[[:space:]]+/deb-src /p' "$f" | sed 's/[[:space:]]*#.*$//'
    done
    for f in "${SP%/}"/*.sources; do
        [[ -f $f ]] || continue
        # deb822 stanzas (blank-line separated; "#" lines are comments):
        # Types, URIs, Suites, Components, Signed-By, Architectures, Enabled
        awk '
            function flush(   i, j, opts, nu, ns, u, s) {
                if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "" && suites != "") {
                    opts = ""
                    if (signed != "") opts = opts " signed-by=" signed
                    if (trusted != "") opts = opts " trusted=" trusted
                    if (opts != "") opts = "[" substr(opts, 2) "] "
                    nu = split(uris, u, " "); ns = split(suites, s, " ")
                    for (i = 1; i <= nu; i++)
                        for (j = 1; j <= ns; j++)
                            print "deb-src " opts u[i] " " s[j] " " comps
                }
                types = uris = suites = comps = signed = trusted = enabled = ""; key = ""
            }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); next }
            /^[[:space:]]/ { if (key == "signed-by") next   # continuation (an inline key)
                             val = $0; sub(/^[[:space:]]+/, "", val); add(key, val); next }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[[:space:]]*/, "", val); sub(/[[:space:]]+$/, "", val)
                add(key, val)
            }
            function add(k, v) {
                if (k == "types") types = types " " v
                else if (k == "uris") uris = uris " " v
                else if (k == "suites") suites = suites " " v
                else if (k == "components") comps = comps " " v
                else if (k == "signed-by" && v !~ /^-----/) signed = v
                else if (k == "trusted") trusted = v
                else if (k == "enabled") enabled = tolower(v)
            }
            END { flush() }
        ' "$f"
    done
}
deb_src_lines | tr -s ' \t' ' ' | sed 's/ $//' | awk 'NF >= 3 && !seen[$0]++' >"$work/sources.list"
if [[ ! -s $work/sources.list ]]; then
    echo "build-jemalloc: no deb entries in the apt sources (sources.list, *.list, *.sources)" >&2
    exit 1
fi
apt_src=(apt-get -q -o Dir::Etc::SourceList="$work/sources.list"
         -o Dir::Etc::SourceParts="$work/parts" -o Dir::State::Lists="$work/lists"
         -o Acquire::Retries=3)
# A source index that some repository lacks is reported but not fatal:
# what counts is that jemalloc's source package can be fetched.
(cd "$work" && { "${apt_src[@]}" update || true; } && "${apt_src[@]}" source --download-only jemalloc) \
    >"$work/fetch.log" 2>&1 || {
    cat "$work/sources.list" "$work/fetch.log" >&2
    cp "$work/fetch.log" "$cache/fetch.log"
    exit 1
}
cp "$work/fetch.log" "$cache/fetch.log"
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
) >"$work/build.log" 2>&1; then
    cp "$work/build.log" "$cache/build.log"
    tail -n 30 "$work/build.log" >&2
    echo "build-jemalloc: build failed" >&2
    exit 1
fi
cp "$work/build.log" "$cache/build.log"
mkdir -p "$work/install/lib" "$work/install/include/jemalloc"
cp "$work/src/lib/libjemalloc_pic.a" "$work/install/lib/"
cp "$work/src/include/jemalloc/jemalloc.h" "$work/install/include/jemalloc/"
# An incomplete prefix left by an older version of this script goes first;
# then one rename puts the new one in place.
if [[ -e $prefix ]]; then
    mv "$prefix" "$work/stale-install"
fi
mv -T "$work/install" "$prefix"
echo "$prefix"
