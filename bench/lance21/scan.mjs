// LanceDB's full scan of a table, every column, streamed batch by batch.
//   node scan.mjs LANCEDB_DIR TABLE.lance DATA_BYTES
import { loadLanceDB, openTable, run } from "../../tests/interop/lib.mjs";

run(async () => {
  const [gen, table, bytesArg] = process.argv.slice(2);
  const ldb = loadLanceDB(gen);
  const t0 = process.hrtime.bigint();
  const tbl = await openTable(ldb, table);
  let rows = 0;
  const it = await tbl.query().execute();
  for await (const batch of it) rows += batch.numRows;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ reader: `lancedb ${ldb.version}`, rows, seconds: +secs.toFixed(3),
    mb_per_s: +(Number(bytesArg) / 1e6 / secs).toFixed(1),
    peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1) }));
});
