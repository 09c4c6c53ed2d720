// Exact top-k vector search with LanceDB, bypassing any vector index (flat KNN over every
// fragment), printed as JSON lines {"<key>":…, "_distance":…} in rank order: the form to
// compare with `resona search` (compare.py --search).
//   node search.mjs GEN TABLE.lance (--vector JSON | --vector-file F) [-k N | --k N]
//        [--metric l2|cosine|dot] [--column vector] [--key id] [--indexed]
// --indexed uses LanceDB's default plan (the index, if any, plus a scan of unindexed
// fragments) instead of the flat search.
import fs from "fs";
import { loadLanceDB, openTable, parseArgs, run, fmtNum, flatSearch } from "./lib.mjs";

run(async () => {
  const argv = process.argv.slice(2).map((x) => (x === "-k" ? "--k" : x));
  const a = parseArgs(argv, ["indexed"]);
  if (a._.length !== 2 || !(a.vector || a["vector-file"]))
    throw new Error("usage: node search.mjs GEN TABLE.lance (--vector JSON | --vector-file F) " +
      "[-k N] [--metric l2|cosine|dot] [--column C] [--key id] [--indexed]");
  const vector = JSON.parse(a.vector || fs.readFileSync(a["vector-file"], "utf8"));
  if (!Array.isArray(vector)) throw new Error("the query vector must be a JSON array");
  const ldb = loadLanceDB(a._[0]);
  const tbl = await openTable(ldb, a._[1]);
  const key = a.key || "id";
  const metric = a.metric || "l2";
  if (!["l2", "cosine", "dot"].includes(metric)) throw new Error(`unknown metric ${metric}`);
  const rows = await flatSearch(tbl, vector, { k: Number(a.k || 10), metric, column: a.column,
                                               bypass: !a.indexed });
  for (const r of rows)
    process.stdout.write(`{${JSON.stringify(key)}:${JSON.stringify(r[key])},"_distance":${fmtNum(r._distance)}}\n`);
});
