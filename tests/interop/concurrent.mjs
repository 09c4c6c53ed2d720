// One LanceDB writer for the concurrency tests: K add() calls of M rows each through one
// handle, while another process (resona) appends to the same table. Rows are copies of the
// table's first row with ids <prefix>-0 … <prefix>-(K*M-1) (and distinct vectors), so the test can
// check afterwards that every one of them is there exactly once.
//   node concurrent.mjs GEN TABLE.lance [--batches K] [--rows M] [--prefix P] [--start-file F]
// --start-file: wait (up to 30 s) until F exists before the first add, to line up with the
// other writer. Prints "added N rows in K commits"; exits 1 on any failed add.
import fs from "fs";
import { loadLanceDB, openTable, parseArgs, run, plainRows } from "./lib.mjs";

run(async () => {
  const a = parseArgs(process.argv.slice(2));
  if (a._.length !== 2) throw new Error("usage: node concurrent.mjs GEN TABLE.lance [--batches K] " +
    "[--rows M] [--prefix P] [--start-file F]");
  const ldb = loadLanceDB(a._[0]);
  const tbl = await openTable(ldb, a._[1]);
  const K = Number(a.batches || 10), M = Number(a.rows || 10), prefix = a.prefix || "js";
  const [tmpl] = plainRows(await tbl.query().limit(1).toArrow(), 1);
  if (!tmpl) throw new Error("the table needs at least one row to copy");
  if (a["start-file"]) {
    const t0 = Date.now();
    while (!fs.existsSync(a["start-file"])) {
      if (Date.now() - t0 > 30000) throw new Error(`${a["start-file"]} did not appear`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  let added = 0;
  for (let b = 0; b < K; b++) {
    const rows = [];
    for (let i = 0; i < M; i++) {
      const o = { ...tmpl, id: `${prefix}-${b * M + i}` };
      if (Array.isArray(o.vector)) o.vector = o.vector.map((x, j) => (j === 0 ? b * 1000 + i : x));
      rows.push(o);
    }
    await tbl.add(rows);
    added += M;
  }
  console.log(`added ${added} rows in ${K} commits`);
});
