#!/usr/bin/env python3
"""Markdown tables from the JSON lines run.sh collects: summary.py results.jsonl"""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = lambda what: [r for r in rows if r["what"] == what]

app = by("append")
if app:
    base = next((r for r in app if r["side"] == "resona"), None)
    r0 = app[0]
    print("### Append %d rows x %d-d in batches of %d (%d commits), payload %.1f MB\n"
          % (r0["rows"], r0["dim"], r0["batch"], r0["commits"], r0["payload_bytes"] / 1e6))
    print("| writer | seconds | MB/s | slowest commit (s) | resona (fsync) / this |")
    print("|---|---:|---:|---:|---:|")
    for r in app:
        ratio = base["mb_per_s"] / r["mb_per_s"] if base else float("nan")
        print("| %s | %.2f | %.1f | %.3f | %.2f× |"
              % (r["side"], r["seconds"], r["mb_per_s"], r["slowest_commit_s"], ratio))
    print()

fr = by("fragments")
if fr:
    print("### One append of %d rows x %d-d once the table has N fragments (median of the "
          "next appends, ms)\n" % (fr[0]["rows_per_append"], fr[0]["dim"]))
    points = [p["fragments"] for p in fr[0]["points"]]
    print("| writer | " + " | ".join("%d fragments" % p for p in points) + " |")
    print("|---|" + "---:|" * len(points))
    for r in fr:
        print("| %s | " % r["side"] + " | ".join(
            "%.1f (%.1f–%.1f)" % (p["median_ms"], p["min_ms"], p["max_ms"]) for p in r["points"])
              + " |")
    print()

sc = by("scan")
if sc:
    print("### Full scan, all columns, warm page cache\n")
    print("| table | reader | rows | seconds | MB/s | vector checksum | max RSS |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in sc:
        rss = "%.0f MB" % (r["max_rss_kb"] / 1024) if "max_rss_kb" in r else ""
        table = "written by resona" if r["table"] == "c" else "written by LanceDB " + r["table"][2:]
        print("| %s | %s | %d | %.2f | %.1f | %s | %s |"
              % (table, r["side"], r["rows"], r["seconds"], r["mb_per_s"], r["checksum"], rss))
    print()
