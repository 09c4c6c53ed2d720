// Print every row of a Lance table, as read by LanceDB, as canonical JSON lines (see lib.mjs),
// in LanceDB's scan order: the form `resona scan` prints, for compare.py.
//   node dump.mjs GEN TABLE.lance [--columns a,b] [--version N] [--schema-out FILE] [--count-only]
// GEN is "0.13" or "current" (the folders tests/interop/setup fills).
import fs from "fs";
import { loadLanceDB, openTable, parseArgs, run, canonicalRows, schemaJSON } from "./lib.mjs";

run(async () => {
  const a = parseArgs(process.argv.slice(2), ["count-only"]);
  if (a._.length !== 2) throw new Error("usage: node dump.mjs GEN TABLE.lance [--columns a,b] " +
    "[--version N] [--schema-out FILE] [--count-only]");
  const ldb = loadLanceDB(a._[0]);
  const tbl = await openTable(ldb, a._[1]);
  if (a.version) await tbl.checkout(Number(a.version));
  if (a["count-only"]) { console.log(await tbl.countRows()); return; }
  let q = tbl.query();
  if (a.columns) q = q.select(a.columns.split(","));
  const data = await q.toArrow();
  if (a["schema-out"])
    fs.writeFileSync(a["schema-out"], JSON.stringify(schemaJSON(ldb, data.schema)) + "\n");
  const out = [];
  let n = 0;
  for (const line of canonicalRows(data)) {
    out.push(line);
    if (out.length >= 1000) { process.stdout.write(out.join("\n") + "\n"); out.length = 0; }
    n++;
  }
  if (out.length) process.stdout.write(out.join("\n") + "\n");
  if (n !== data.numRows) throw new Error(`printed ${n} of ${data.numRows} rows`);
});
