#!/usr/bin/env python3
"""Generate a synthetic Tana JSON export with the shape of a real one.

  gen_export.py NODES OUT.json [--seed N]

The docs follow the sample export (tests/fixtures/sample-workspace.json):
a workspace root with its structural children (_STASH, _SCHEMA, _TRASH, ...),
tagDefs with metanodes, definition tuples [SYS_A13, SYS_T01] and template
field tuples; attrDefs with [SYS_A13, SYS_T02] tuples and typeChoice docs;
data nodes in a hierarchy with HTML names, inline references and inline
dates; tag applications (metanode + [SYS_A13, tag] tuple); field instances
(tuples [attrDef, value...] with _sourceId); modifiedTs/touchCounts arrays;
_done timestamps; and a trash node holding about 2% of the nodes.
NODES is the number of docs written (within a few). Deterministic per seed.
"""
import json
import random
import sys

ALPH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at "
         "which but have an they you were her she there one all we their can has been if more when "
         "will would who so no review agenda meeting project notes draft idea book chapter task "
         "weekly plan research summary follow up call email read write ship design test").split()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    target = int(sys.argv[1])
    out_path = sys.argv[2]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--seed" else 1
    rnd = random.Random(seed)
    counter = [0]

    def nid():
        counter[0] += 1
        n = counter[0] * 2654435761 % (64 ** 10)
        s = ""
        for _ in range(10):
            s += ALPH[n % 64]
            n //= 64
        return "g" + s + ALPH[counter[0] % 64]

    def words(k):
        return " ".join(rnd.choice(WORDS) for _ in range(k))

    ws = "u-WsSynth0001"
    t0 = 1765577496885
    out = open(out_path, "w", encoding="utf-8")
    out.write('{"formatVersion":1,"editors":[["user@example.com",0],["system+ai@tagr",1],'
              '["system@tagr",2]],"lastTxid":1765625897815,"lastFbKey":"-OgMVFyqFvdWeNADUQZA",'
              '"optimisticTransIds":[],"currentWorkspaceId":"_1liWSdbrpHY","changeCount":52566,'
              '"workspaces":{"_1liWSdbrpHY":"{\\"layout\\":[]}"},"refIndex":{},"docs":[\n')
    first = [True]
    written = [0]

    def emit(doc):
        if not first[0]:
            out.write(",\n")
        first[0] = False
        out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        written[0] += 1

    def ts():
        return t0 + rnd.randrange(0, 50_000_000)

    structural = ["STASH", "CAPTURE_INBOX", "SEARCHES", "SCHEMA", "TRASH", "MOVETO",
                  "WORKSPACE", "CHATDRAFTS", "SIDEBAR_AREAS", "QUICK_ADD", "AVATAR", "USERS"]
    home = nid()
    emit({"id": ws, "children": [ws + "_" + s for s in structural[:4]] + [home] +
          [ws + "_" + s for s in structural[4:]],
          "props": {"created": t0, "name": "Root node for file:" + ws}})

    # schema: attrDefs and tagDefs
    n_tags = max(5, min(200, target // 2000))
    n_attrs = max(10, min(600, target // 700))
    attrs = []
    schema_children = []
    types = ["SYS_D01", "SYS_D03", "SYS_D05", "SYS_D06", "SYS_D08", "SYS_D10", "SYS_D12"]
    for i in range(n_attrs):
        a, meta, tup, tc = nid(), nid(), nid(), nid()
        name = rnd.choice(["Author", "Status", "Due date", "Source URL", "Word count", "Category",
                           "Priority", "Is done", "Link", "Owner", "Topic", "Amount"]) + " " + str(i)
        attrs.append((a, name))
        schema_children.append(a)
        emit({"id": a, "children": [tc], "props": {"_docType": "attrDef", "_metaNodeId": meta,
                                                   "_ownerId": ws + "_SCHEMA", "created": ts(),
                                                   "name": name}})
        emit({"id": meta, "children": [tup], "props": {"_docType": "metanode", "_ownerId": a}})
        emit({"id": tup, "children": ["SYS_A13", "SYS_T02"], "props": {"_docType": "tuple", "_ownerId": meta}})
        emit({"id": tc, "children": [rnd.choice(types)], "props": {"_sourceId": "SYS_A02", "_ownerId": a,
                                                                   "name": "typeChoice"}})
    tags = []
    for i in range(n_tags):
        t, meta, tup = nid(), nid(), nid()
        fields = rnd.sample(attrs, k=min(len(attrs), rnd.randrange(1, 6)))
        templates = []
        for (a, _) in fields:
            tt = nid()
            templates.append((tt, a))
        tags.append((t, "tag" + str(i), templates))
        schema_children.append(t)
        emit({"id": t, "children": [x[0] for x in templates],
              "props": {"_docType": "tagDef", "_metaNodeId": meta, "_ownerId": ws + "_SCHEMA",
                        "created": ts(), "name": "tag" + str(i)}})
        emit({"id": meta, "children": [tup], "props": {"_docType": "metanode", "_ownerId": t}})
        parent_tag = [tags[rnd.randrange(len(tags) - 1)][0]] if len(tags) > 1 and rnd.random() < 0.3 else []
        emit({"id": tup, "children": ["SYS_A13", "SYS_T01"] + parent_tag,
              "props": {"_docType": "tuple", "_ownerId": meta}, **({"color": "blue"} if i % 7 == 0 else {})})
        for (tt, a) in templates:
            emit({"id": tt, "children": [a], "props": {"_docType": "tuple", "_ownerId": t}})
    emit({"id": ws + "_SCHEMA", "children": schema_children, "props": {"created": t0, "name": "Schema"}})
    for s in structural:
        if s not in ("SCHEMA", "TRASH"):
            emit({"id": ws + "_" + s, "props": {"created": t0, "name": s.title()}})

    # data nodes: a tree under home; some tagged, some with fields
    data_ids = []
    trash_children = []
    pending = [home]
    home_children = []
    emitted_home = False
    while written[0] < target - 5:
        parent = pending[rnd.randrange(len(pending))] if pending else home
        n_children = rnd.randrange(1, 12)
        children = []
        for _ in range(n_children):
            if written[0] >= target - 5:
                break
            d = nid()
            children.append(d)
            data_ids.append(d)
            r = rnd.random()
            if r < 0.06 and len(data_ids) > 10:
                tgt = data_ids[rnd.randrange(len(data_ids) - 1)]
                name = words(4) + ' <span data-inlineref-node="' + tgt + '"></span> ' + words(3)
            elif r < 0.09:
                name = ('<span data-inlineref-date="{&quot;dateTimeString&quot;:&quot;2025-12-'
                        + "%02d" % rnd.randrange(1, 29) + '&quot;,&quot;timezone&quot;:&quot;'
                        'Europe/Zurich&quot;}"></span>')
            elif r < 0.15:
                name = "<b>" + words(3) + "</b> " + words(rnd.randrange(3, 30))
            else:
                name = words(rnd.randrange(2, 60))
            props = {"_ownerId": parent, "created": ts(), "name": name}
            doc = {"id": d, "props": props}
            if rnd.random() < 0.7:
                doc["modifiedTs"] = [ts(), 0, ts()] if rnd.random() < 0.3 else [ts()]
                doc["touchCounts"] = [rnd.randrange(1, 40)]
            if rnd.random() < 0.05:
                props["_done"] = ts()
            extra = []
            if rnd.random() < 0.08 and tags:
                # tag application: metanode + [SYS_A13, tag]
                t, _, templates = tags[rnd.randrange(len(tags))]
                meta, tup = nid(), nid()
                props["_metaNodeId"] = meta
                props["_flags"] = 1
                extra.append({"id": meta, "children": [tup], "props": {"_docType": "metanode", "_ownerId": d, "created": props["created"]}})
                extra.append({"id": tup, "children": ["SYS_A13", t], "props": {"_docType": "tuple", "_ownerId": meta, "created": props["created"]}})
                fkids = []
                for (tt, a) in templates:
                    if rnd.random() < 0.7:
                        ft, fv = nid(), nid()
                        fkids.append(ft)
                        extra.append({"id": ft, "children": [a, fv], "props": {"_docType": "tuple", "_ownerId": d, "_sourceId": tt, "created": props["created"]}})
                        extra.append({"id": fv, "props": {"_ownerId": ft, "created": props["created"], "name": words(rnd.randrange(1, 4))}})
                doc["children"] = fkids
            if rnd.random() < 0.02:
                trash_children.append(d)
            emit(doc)
            for e in extra:
                emit(e)
        if children:
            if parent == home:
                home_children.extend(children)
            else:
                # children arrive as a separate "update" of the parent: emit a container doc
                cont = nid()
                emit({"id": cont, "children": children, "props": {"_ownerId": parent, "created": ts(), "name": words(3)}})
                home_children.append(cont)
            pending.extend(children[: rnd.randrange(1, len(children) + 1)])
            if len(pending) > 5000:
                pending = pending[-2500:]
    emit({"id": home, "children": home_children[:100000], "props": {"_docType": "home", "_ownerId": ws, "created": t0, "name": "Home"},
          "modifiedTs": [t0 + 1], "touchCounts": [3]})
    emit({"id": ws + "_TRASH", "children": trash_children, "props": {"created": t0, "name": "Trash"}})
    out.write("\n]}\n")
    out.close()
    print("%s: %d docs" % (out_path, written[0]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
