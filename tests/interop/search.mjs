// Exact top-k vector search with LanceDB, bypassing any vector index (flat KNN over every
// fragment), printed as JSON lines {"<key>":…, "_distance":…} in rank order: the form to
// compare with `resona search` (compare.py --search).
//   node search.mjs GEN TABLE.lance (--vector JSON | --vector-file F) [-k N | --k N]
//        [--metric l2|cosine|dot] [--column vector] [--key id] [--indexed]
//   node search.mjs GEN TABLE.lance --queries F1,F2,… --metrics l2,cosine,dot --out-dir D …
// The second form runs every query file with every metric in one process (LanceDB loads
// once) and writes D/<query file name>.<metric>.jsonl.
// --indexed uses LanceDB's default plan (the index, if any, plus a scan of unindexed
// fragments) instead of the flat search.
import fs from "fs";
import path from "path";
import { loadLanceDB, openTable, parseArgs, run, fmtNum, flatSearch } from "./lib.mjs";

const METRICS = ["l2", "cosine", "dot"];

function readVector(text, what) {
  const v = JSON.parse(text);
  if (!Array.isArray(v)) throw new Error(`${what}: the query vector must be a JSON array`);
  return v;
}

run(async () => {
  const argv = process.argv.slice(2).map((x) => (x === "-k" ? "--k" : x));
  const a = parseArgs(argv, ["indexed"]);
  const batch = a.queries !== undefined;
  if (a._.length !== 2 || !(a.vector || a["vector-file"] || (batch && a["out-dir"])))
    throw new Error("usage: node search.mjs GEN TABLE.lance (--vector JSON | --vector-file F | " +
      "--queries F1,F2 --metrics m1,m2 --out-dir D) [-k N] [--metric l2|cosine|dot] " +
      "[--column C] [--key id] [--indexed]");
  const ldb = loadLanceDB(a._[0]);
  const tbl = await openTable(ldb, a._[1]);
  const key = a.key || "id";
  const k = Number(a.k || 10);
  const jobs = [];
  if (batch) {
    for (const f of a.queries.split(","))
      for (const m of (a.metrics || METRICS.join(",")).split(","))
        jobs.push({ vector: readVector(fs.readFileSync(f, "utf8"), f), metric: m,
                    out: path.join(a["out-dir"], `${path.basename(f)}.${m}.jsonl`) });
  } else {
    jobs.push({ vector: readVector(a.vector || fs.readFileSync(a["vector-file"], "utf8"), "query"),
                metric: a.metric || "l2", out: null });
  }
  for (const j of jobs) {
    if (!METRICS.includes(j.metric)) throw new Error(`unknown metric ${j.metric}`);
    const rows = await flatSearch(tbl, j.vector, { k, metric: j.metric, column: a.column,
                                                   bypass: !a.indexed });
    const text = rows.map((r) =>
      `{${JSON.stringify(key)}:${JSON.stringify(r[key])},"_distance":${fmtNum(r._distance)}}\n`).join("");
    if (j.out) fs.writeFileSync(j.out, text);
    else process.stdout.write(text);
  }
});
