#!/usr/bin/env bash
# Run Debian's JMeter 2.13 through PgdJMeterLauncher (see the .java file for
# why a stock `jmeter -n` silently runs nothing on Debian 12).  Compiles the
# launcher on first use into $PGD_JMETER_BUILD (default: loadtest/.build/jmeter,
# gitignored).  All arguments go to JMeter unchanged, e.g.
#   loadtest/jmeter/jmeter.sh -n -t loadtest/jmeter/scenario.jmx -l out.jtl -Jport=8001
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
home=${JMETER_HOME:-/usr/share/jmeter}
build=${PGD_JMETER_BUILD:-$here/../.build/jmeter}
cp="$home/bin/ApacheJMeter.jar:$home/lib/ext/*:$home/lib/*"
src=$here/PgdJMeterLauncher.java
if [[ ! -f $build/PgdJMeterLauncher.class || $src -nt $build/PgdJMeterLauncher.class ]]; then
    mkdir -p "$build"
    javac -Xlint:-options -d "$build" -cp "$cp" "$src"
fi
exec java ${JMETER_JVM_ARGS:--Xms256m -Xmx512m -XX:+UseSerialGC} \
    -Djmeter.home="$home" -cp "$build:$cp" PgdJMeterLauncher "$@"
