#!/usr/bin/env python3
"""Dump a supertag SQLite index as sorted JSON lines and compare it with the
original's golden dump (tests/fixtures/golden/sample-index).

  dump_index.py DB OUTDIR            write <table>.jsonl for every table
  dump_index.py --compare DB GOLDEN  compare every table with GOLDEN/<table>.jsonl

Columns listed as "dropped" in GOLDEN/SUMMARY.json (surrogate ids,
node_checksums.last_seen, sync_metadata's clock and file name) are left out,
as in the golden dump. nodes.raw_data is compared as JSON, not as text.
Also checks that sqlite_master (the schema, in creation order) equals the
original database's when --schema ORIGINAL_DB is given.
Exit status 0 when everything matches, 1 with a report otherwise.
"""
import json
import os
import sqlite3
import sys


def table_rows(db, table, dropped):
    cur = db.execute('SELECT * FROM "%s"' % table)
    cols = [d[0] for d in cur.description]
    keep = [i for i, c in enumerate(cols) if c not in dropped]
    for row in cur:
        yield {cols[i]: row[i] for i in keep}


def canon(row):
    r = dict(row)
    if "raw_data" in r and r["raw_data"] is not None:
        r["raw_data"] = json.loads(r["raw_data"])
    return json.dumps(r, sort_keys=True, ensure_ascii=False)


def compare(db_path, golden_dir, schema_db=None):
    summary = json.load(open(os.path.join(golden_dir, "SUMMARY.json")))
    db = sqlite3.connect(db_path)
    failures = 0
    for table, info in sorted(summary.items()):
        dropped = set(info["dropped"])
        ours = sorted(canon(r) for r in table_rows(db, table, dropped))
        theirs = []
        with open(os.path.join(golden_dir, table + ".jsonl"), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    theirs.append(canon(json.loads(line)))
        theirs.sort()
        if ours == theirs:
            print("ok   %-22s %6d rows" % (table, len(ours)))
            continue
        failures += 1
        a, b = set(ours), set(theirs)
        print("FAIL %-22s ours %d rows, golden %d rows" % (table, len(ours), len(theirs)))
        for r in sorted(a - b)[:5]:
            print("  only ours:   " + r[:400])
        for r in sorted(b - a)[:5]:
            print("  only golden: " + r[:400])
    if schema_db:
        q = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
        ours = db.execute(q).fetchall()
        theirs = sqlite3.connect(schema_db).execute(q).fetchall()
        if ours == theirs:
            print("ok   sqlite_master          %6d rows" % len(ours))
        else:
            failures += 1
            print("FAIL sqlite_master differs")
            for x, y in zip(ours, theirs):
                if x != y:
                    print("  ours:   %r\n  theirs: %r" % (x, y))
                    break
            if len(ours) != len(theirs):
                print("  %d vs %d rows" % (len(ours), len(theirs)))
        seq_q = "SELECT name, seq FROM sqlite_sequence ORDER BY rowid"
        if db.execute(seq_q).fetchall() == sqlite3.connect(schema_db).execute(seq_q).fetchall():
            print("ok   sqlite_sequence")
        else:
            failures += 1
            print("FAIL sqlite_sequence differs")
    return failures


def dump(db_path, out_dir):
    db = sqlite3.connect(db_path)
    os.makedirs(out_dir, exist_ok=True)
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '%_fts%'")]
    for t in tables:
        rows = sorted(json.dumps(r, sort_keys=True, ensure_ascii=False)
                      for r in table_rows(db, t, set()))
        with open(os.path.join(out_dir, t + ".jsonl"), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(r + "\n")


def main(argv):
    if len(argv) >= 4 and argv[1] == "--compare":
        schema = None
        if len(argv) >= 6 and argv[4] == "--schema":
            schema = argv[5]
        return 1 if compare(argv[2], argv[3], schema) else 0
    if len(argv) == 3:
        dump(argv[1], argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
