// Print a table's schema as LanceDB sees it (names, Arrow types, nullability) and its row
// count, as one JSON object: {"rows":N,"columns":[{"name","type","nullable"},...]}.
//   node schema.mjs GEN TABLE.lance
import { loadLanceDB, openTable, parseArgs, run, schemaJSON } from "./lib.mjs";

run(async () => {
  const a = parseArgs(process.argv.slice(2), []);
  if (a._.length !== 2) throw new Error("usage: node schema.mjs GEN TABLE.lance");
  const ldb = loadLanceDB(a._[0]);
  const tbl = await openTable(ldb, a._[1]);
  const schema = schemaJSON(ldb, await tbl.schema());
  console.log(JSON.stringify({ rows: await tbl.countRows(), columns: schema.columns }));
});
