#!/usr/bin/env python3
"""show_model.py - an independent model of the original supertag-cli's
`search --semantic --show [--depth N]` output, written from its TypeScript
source (src/commands/show.ts: getNodeContents, formatNodeOutput,
getNodeContentsWithDepth, formatNodeWithDepth; src/utils/inline-ref-formatter.ts;
src/embeddings/ancestor-resolution.ts; src/commands/search.ts), reading the
SQLite index directly. The test compares supertag's output with it.

    show_model.py table DB DEPTH < hits.json     -> the table --show text (after the header)
    show_model.py json DB DEPTH < hits.json      -> the rows of --show --json
    show_model.py check DB                       -> self-checks against raw SQL
hits.json is supertag's own `--json` output (ids, similarity, order), whose
rows the golden tests already pin to the original's.
"""
import datetime
import json
import re
import sqlite3
import sys

DATE = re.compile(r'<span[^>]*\sdata-inlineref-date="([^"]+)"[^>]*>([^<]*)</span>')
NODE = re.compile(r'<span[^>]*\sdata-inlineref-node="([^"]+)"[^>]*>([^<]*)</span>')
DTS = re.compile(r'dateTimeString":\s*"([^"]+)"')


def inline_refs(value):
    def date(m):
        a = m.group(1).replace("&quot;", '"').replace("&amp;", "&")
        a = a.replace("&lt;", "<").replace("&gt;", ">")
        d = DTS.search(a)
        return d.group(1) if d else ""

    if "data-inlineref-date" in value:
        value = DATE.sub(date, value)
    if "data-inlineref-node" in value:
        value = NODE.sub(lambda m: "[[" + m.group(1) + "]]", value)
    return value


def meaningful(v):
    if re.match(r"\d{4}-\d{2}-\d{2}", v):
        return True
    if v.startswith("[["):
        return True
    if re.fullmatch(r"[a-zA-Z0-9_-]{12,}", v):
        return False
    return True


def contents(db, node_id):
    row = db.execute("SELECT id, name, created, raw_data FROM nodes WHERE id = ? AND "
                     "(node_type IS NULL OR node_type != 'trash')", (node_id,)).fetchone()
    if row is None:
        return None
    raw = json.loads(row[3])
    child_ids = raw.get("children") or []
    cmap = {}
    for cid in child_ids:
        c = db.execute("SELECT id, name, raw_data FROM nodes WHERE id = ?", (cid,)).fetchone()
        if c:
            cmap[cid] = c
    groups = {}
    for name, fid, text, vid in db.execute(
            "SELECT field_name, field_def_id, value_text, value_node_id FROM field_values "
            "WHERE parent_id = ? ORDER BY field_name, value_order, id", (node_id,)):
        v = inline_refs(text) if text else vid
        g = groups.setdefault(name, {"fieldId": fid, "values": [], "valueId": vid})
        g["values"].append(v)
    fields = []
    for name, g in groups.items():
        vals = [v for v in g["values"] if meaningful(v)]
        if vals:
            fields.append({"fieldName": name, "fieldId": g["fieldId"], "value": ", ".join(vals),
                           "valueId": g["valueId"]})
    children = []
    for cid in child_ids:
        c = cmap.get(cid)
        if not c:
            continue
        props = json.loads(c[2]).get("props") or {}
        if props.get("_docType") == "tuple":
            continue
        children.append({"id": cid, "name": c[1] or "(unnamed)", "isContent": True})
    tags = [t for (t,) in db.execute(
        "SELECT tag_name FROM tag_applications WHERE data_node_id = ? ORDER BY id", (node_id,))]
    created = None
    if row[2]:
        created = (datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) +
                   datetime.timedelta(milliseconds=row[2]))
    return {"id": node_id, "name": row[1] or "(unnamed)", "created": created, "fields": fields,
            "children": children, "tags": tags}


def tagstr(tags):
    return "".join(" #" + t for t in tags)


def text_flat(c):
    out = ["📄 " + c["name"] + tagstr(c["tags"])]
    if c["created"]:
        d = c["created"]  # the test runs with TZ=UTC; en-US toLocaleDateString
        out.append("   Created: %d/%d/%d" % (d.month, d.day, d.year))
    if c["fields"]:
        out.append("   Fields:")
        out += ["   - %s:: %s" % (f["fieldName"], f["value"]) for f in c["fields"]]
    if c["children"]:
        out.append("   Children:")
        out += ["   - " + ch["name"] for ch in c["children"]]
    return "\n".join(out)


def text_tree(db, node_id, cur, maxd, indent):
    c = contents(db, node_id)
    if c is None:
        return ""
    out = [indent + c["name"] + tagstr(c["tags"])]
    out += [indent + "  %s:: %s" % (f["fieldName"], f["value"]) for f in c["fields"]]
    for ch in c["children"]:
        if cur < maxd:
            s = text_tree(db, ch["id"], cur + 1, maxd, indent + "  ")
            if s:
                out.append(s)
        else:
            out.append(indent + "  - " + ch["name"])
    return "\n".join(out)


def iso(d):
    return None if d is None else d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def json_flat(c):
    return {"id": c["id"], "name": c["name"], "created": iso(c["created"]), "fields": c["fields"],
            "children": c["children"], "tags": c["tags"]}


def json_tree(db, node_id, cur, maxd):
    c = contents(db, node_id)
    if c is None:
        return None
    r = {"id": c["id"], "name": c["name"], "created": iso(c["created"]), "fields": c["fields"],
         "tags": c["tags"], "children": []}
    if cur < maxd:
        for ch in c["children"]:
            x = json_tree(db, ch["id"], cur + 1, maxd)
            if x is not None:
                r["children"].append(x)
    return r


def ancestor(db, node_id):
    """findMeaningfulAncestor: the nearest tagged node on the parent chain, (name, tags, depth)."""
    seen, cur, depth = set(), node_id, 0
    while cur and depth <= 50:
        if cur in seen:
            return None
        seen.add(cur)
        row = db.execute("SELECT name, parent_id FROM nodes WHERE id = ?", (cur,)).fetchone()
        if row is None:
            return None
        tags = [t for (t,) in db.execute(
            "SELECT DISTINCT tag_name FROM tag_applications WHERE data_node_id = ?", (cur,))]
        if tags:
            return row[0], tags, depth
        cur, depth = row[1], depth + 1
    return None


def show_table(db, hits, depth):
    out = ["Results (%d):" % len(hits), ""]
    for i, h in enumerate(hits):
        out.append("━━━ Result %d ━━━  %.1f%% similar" % (i + 1, float(h["similarity"]) * 100))
        a = ancestor(db, h["id"])
        if a and a[2] > 0:
            out.append("📂 Context: %s %s" % (a[0], " ".join("#" + t for t in a[1])))
        if depth > 0:
            s = text_tree(db, h["id"], 0, depth, "")
            if s:
                out.append(s)
        else:
            c = contents(db, h["id"])
            if c:
                out.append(text_flat(c))
        out.append("")
    return "\n".join(out) + "\n"


def show_json(db, hits, depth):
    rows = []
    for h in hits:
        r = dict(h)
        c = json_tree(db, h["id"], 0, depth) if depth > 0 else contents(db, h["id"])
        if c is not None:
            r["contents"] = c if depth > 0 else json_flat(c)
        rows.append(r)
    return rows


def check(db):
    """The model against plain SQL on the sample: a few facts it must get right."""
    c = contents(db, "7CQebiYShzfi")  # the Frankenstein #book node
    f = {x["fieldName"]: x["value"] for x in c["fields"]}
    assert f["Import date"] == "2025-12-13", f  # an inline date reference
    assert f["Gutenberg ID"] == "84", f
    n_cat = db.execute("SELECT count(*) FROM field_values WHERE parent_id = ? AND "
                       "field_name = 'Category'", ("7CQebiYShzfi",)).fetchone()[0]
    assert len(f["Category"].split(", ")) == n_cat, f
    assert c["tags"] == ["book"], c["tags"]
    raw = json.loads(db.execute("SELECT raw_data FROM nodes WHERE id = '7CQebiYShzfi'")
                     .fetchone()[0])["children"]
    tuples = db.execute("SELECT count(*) FROM nodes WHERE parent_id = '7CQebiYShzfi' AND "
                        "json_extract(raw_data, '$.props._docType') = 'tuple'").fetchone()[0]
    assert len(c["children"]) == len(raw) - tuples, (len(c["children"]), len(raw), tuples)
    assert inline_refs('x <span data-inlineref-node="abc"></span> y') == "x [[abc]] y"


def main():
    mode, dbpath = sys.argv[1], sys.argv[2]
    db = sqlite3.connect("file:%s?mode=ro" % dbpath, uri=True)
    if mode == "check":
        check(db)
        return
    depth = int(sys.argv[3])
    hits = json.load(sys.stdin)
    if mode == "table":
        sys.stdout.write(show_table(db, hits, depth))
    else:
        json.dump(show_json(db, hits, depth), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
