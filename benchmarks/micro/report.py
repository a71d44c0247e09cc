#!/usr/bin/env python3
"""Merge the micro-benchmarks' Google Benchmark JSON files into one and
print a compact table.

    report.py [--allow-empty] OUT.json PART.json...

OUT.json gets {"context": <first part's context, plus "parts">,
"benchmarks": [every part's benchmarks, in order]}.  With repetitions
(aggregates only) the table shows the median.  Exit status 1 when a
benchmark reported an error or a part is missing or empty (empty parts
are fine with --allow-empty, for a --benchmark_filter run), or when no
part has any benchmark.
"""
import json
import os
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_parts(paths, allow_empty):
    context, rows, problems = None, [], []
    for path in paths:
        try:
            with open(path) as f:
                text = f.read()
            if not text and allow_empty:
                continue  # a program with no case matching the filter writes nothing
            data = json.loads(text)
        except (OSError, ValueError) as e:
            problems.append(f"{os.path.basename(path)}: unreadable ({e})")
            continue
        if context is None:
            context = dict(data.get("context", {}))
            context["parts"] = []
        context["parts"].append(os.path.basename(path))
        extra = {k: v for k, v in data.get("context", {}).items() if k.startswith("pgd_")}
        benches = data.get("benchmarks", [])
        if not benches and not allow_empty:
            problems.append(f"{os.path.basename(path)}: no benchmarks")
        for b in benches:
            b.update({"part": os.path.basename(path), **extra})
            rows.append(b)
    return context or {}, rows, problems


def pick(rows):
    """One row per benchmark name: the iteration row, or the median."""
    out = {}
    for b in rows:
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                out[name] = b
        elif name not in out:
            out[name] = b
    return out


def ns_per_item(b):
    ips = b.get("items_per_second")
    return 1e9 / ips if ips else None


def fmt_ns(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} us"
    return f"{v:.1f} ns"


def main(argv):
    allow_empty = len(argv) > 1 and argv[1] == "--allow-empty"
    if allow_empty:
        argv = argv[:1] + argv[2:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_path, parts = argv[1], argv[2:]
    context, rows, problems = load_parts(parts, allow_empty)
    if not rows:
        problems.append("no benchmark ran")
    with open(out_path, "w") as f:
        json.dump({"context": context, "benchmarks": rows}, f, indent=1)

    chosen = pick(rows)
    width = max([len(n) for n in chosen] + [9])
    print(f"{'benchmark':<{width}}  {'cpu/op':>10}  {'per item':>10}")
    for name, b in chosen.items():
        if b.get("error_occurred"):
            problems.append(f"{name}: {b.get('error_message', 'error')}")
            print(f"{name:<{width}}  ERROR {b.get('error_message', '')}")
            continue
        cpu = b["cpu_time"] * UNIT_NS.get(b.get("time_unit", "ns"), 1.0)
        print(f"{name:<{width}}  {fmt_ns(cpu):>10}  {fmt_ns(ns_per_item(b)):>10}")

    # jemalloc vs system, pattern by pattern
    pairs = {}
    for name, b in chosen.items():
        parts_ = name.split("/")
        if len(parts_) == 3 and parts_[0] == "alloc" and not b.get("error_occurred"):
            pairs.setdefault(parts_[1], {})[parts_[2]] = ns_per_item(b)
    complete = {k: v for k, v in pairs.items() if "system" in v and "jemalloc" in v}
    if complete:
        print("\nallocator table, ns per op (lower wins):")
        print(f"{'pattern':<14}  {'system':>10}  {'jemalloc':>10}  winner")
        for k, v in complete.items():
            s, j = v["system"], v["jemalloc"]
            win = "jemalloc" if j < s else "system"
            ratio = max(s, j) / min(s, j)
            print(f"{k:<14}  {fmt_ns(s):>10}  {fmt_ns(j):>10}  {win} ({ratio:.2f}x)")

    print(f"\nJSON: {out_path}")
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
