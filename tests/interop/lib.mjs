// Shared helpers of the interop scripts: load one of the two LanceDB generations that
// tests/interop/setup installs, split a table path, turn Arrow rows into the canonical JSON
// form that `resona scan` prints, and read JSON lines.
//
// Canonical form (one JSON object per row, keys in schema order):
//   utf8 -> JSON string; int64 -> integer literal (exact, from BigInt); float32/float64 ->
//   the shortest literal that reads back as the same double (float32 values are exact doubles,
//   so they round-trip too); bool -> true/false; fixed_size_list -> array of numbers;
//   null -> null. Non-finite floats become the strings "NaN", "Infinity", "-Infinity".
import { createRequire } from "module";
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));

// loadLanceDB("0.13" | "current" | DIR) -> { lancedb, arrow, version, gen }
export function loadLanceDB(gen) {
  const dir = gen.includes("/") ? gen : path.join(HERE, `lancedb-${gen}`);
  const pkg = path.join(dir, "node_modules", "@lancedb", "lancedb", "package.json");
  if (!fs.existsSync(pkg))
    throw new Error(`LanceDB '${gen}' is not installed in ${dir}: run tests/interop/setup`);
  const req = createRequire(path.join(dir, "package.json"));
  const lancedb = req("@lancedb/lancedb");
  const arrow = req("apache-arrow");
  const version = JSON.parse(fs.readFileSync(pkg, "utf8")).version;
  return { lancedb, arrow, version, gen };
}

// "/a/b/items.lance" -> { dir: "/a/b", name: "items" }
export function splitTable(tablePath) {
  const abs = path.resolve(tablePath.replace(/\/+$/, ""));
  const base = path.basename(abs);
  if (!base.endsWith(".lance"))
    throw new Error(`table path must end in .lance: ${tablePath}`);
  return { dir: path.dirname(abs), name: base.slice(0, -".lance".length) };
}

export async function openTable(ldb, tablePath) {
  const { dir, name } = splitTable(tablePath);
  const db = await ldb.lancedb.connect(dir);
  return await db.openTable(name);
}

// Minimal option parser: --name value, --flag (boolean when in `flags`), positionals.
export function parseArgs(argv, flags = []) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const k = a.slice(2);
      if (flags.includes(k)) out[k] = true;
      else {
        if (i + 1 >= argv.length) throw new Error(`option ${a} needs a value`);
        out[k] = argv[++i];
      }
    } else out._.push(a);
  }
  return out;
}

export function die(msg) {
  process.stderr.write(`${path.basename(process.argv[1])}: ${msg}\n`);
  process.exit(1);
}

// Run main(), turning any exception into a one-line message and exit 1.
export function run(main) {
  main().catch((e) => die(e && e.stack ? e.stack.split("\n").slice(0, 6).join("\n") : String(e)));
}

export function fmtNum(x) {
  if (typeof x === "bigint") return x.toString();
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  if (Object.is(x, -0)) return "-0.0";
  return String(x);   // the shortest round-trip form, as JSON.stringify writes finite numbers
}

// Describe an Arrow field as a short type name used by compare.py --schema.
export function typeName(ldb, type) {
  const t = ldb.arrow.Type;
  switch (type.typeId) {
    case t.Utf8: case t.LargeUtf8: return "utf8";
    case t.Bool: return "bool";
    case t.Float:
      return type.precision === 1 ? "float32" : type.precision === 2 ? "float64" : "float16";
    case t.Int: return (type.isSigned ? "int" : "uint") + type.bitWidth;
    case t.FixedSizeList:
      return `fixed_size_list<${typeName(ldb, type.children[0].type)},${type.listSize}>`;
    default: return String(type);
  }
}

export function schemaJSON(ldb, schema) {
  return {
    columns: schema.fields.map((f) => ({ name: f.name, type: typeName(ldb, f.type),
                                         nullable: f.nullable })),
  };
}

// A typed array of numbers as a JSON array; the common case (finite, not -0) is one String().
function fmtArray(a) {
  let s = "[";
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (i) s += ",";
    s += typeof x === "number" && Number.isFinite(x) && (x !== 0 || 1 / x > 0) ? String(x) : fmtNum(x);
  }
  return s + "]";
}

function fmtValue(v) {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number" || typeof v === "bigint") return fmtNum(v);
  if (ArrayBuffer.isView(v)) return fmtArray(v);
  if (v && typeof v.toArray === "function") return fmtValue(v.toArray());
  if (Array.isArray(v)) return "[" + v.map(fmtValue).join(",") + "]";
  return JSON.stringify(v);
}

// Yield one canonical JSON text per row of an Arrow table (or record batch), skipping
// columns whose name starts with "_" unless keepHidden.
export function* canonicalRows(table, { keepHidden = false } = {}) {
  const fields = table.schema.fields;
  const cols = [];
  for (let i = 0; i < fields.length; i++) {
    if (!keepHidden && fields[i].name.startsWith("_")) continue;
    cols.push([JSON.stringify(fields[i].name), table.getChildAt(i)]);
  }
  for (let r = 0; r < table.numRows; r++) {
    const parts = cols.map(([k, col]) => k + ":" + fmtValue(col.get(r)));
    yield "{" + parts.join(",") + "}";
  }
}

export function readJSONL(file) {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// A JSON value (as read from a .jsonl file of rows) converted for LanceDB's add(): integers of
// int64 columns become BigInt, everything else stays as is.
export function rowsForSchema(ldb, schema, rows) {
  const int64 = new Set(schema.fields.filter((f) => typeName(ldb, f.type) === "int64")
    .map((f) => f.name));
  return rows.map((r) => {
    const o = {};
    for (const f of schema.fields) {
      const v = r[f.name];
      o[f.name] = v === undefined ? null : int64.has(f.name) && v !== null ? BigInt(v) : v;
    }
    return o;
  });
}

// Flat (exhaustive) vector search, bypassing any index, in either generation.
export async function flatSearch(tbl, vector, { k = 10, metric = "l2", column, bypass = true } = {}) {
  let q = tbl.vectorSearch(vector);
  if (column) q = q.column(column);
  q = q.distanceType(metric).limit(k);
  if (bypass) q = q.bypassVectorIndex();
  return await q.toArray();
}

// Plain JS objects for rows of an Arrow table (vectors as arrays, int64 as BigInt): what
// LanceDB's add() accepts for the same schema.
export function plainRows(table, limit = Infinity) {
  const fields = table.schema.fields.filter((f) => !f.name.startsWith("_"));
  const idx = fields.map((f) => table.schema.fields.indexOf(f));
  const out = [];
  for (let r = 0; r < Math.min(table.numRows, limit); r++) {
    const o = {};
    fields.forEach((f, j) => {
      const v = table.getChildAt(idx[j]).get(r);
      o[f.name] = v && typeof v.toArray === "function" ? Array.from(v.toArray()) : v;
    });
    out.push(o);
  }
  return out;
}

export function sqlString(s) {
  return "'" + String(s).replace(/'/g, "''") + "'";
}

// Write the canonical rows of an Arrow table to file (and its schema, as dump.mjs
// --schema-out does, to schemaFile if given). Returns the row count.
export function writeDump(ldb, data, file, schemaFile) {
  const fd = fs.openSync(file, "w");
  let chunk = [];
  for (const line of canonicalRows(data)) {
    chunk.push(line);
    if (chunk.length >= 1000) { fs.writeSync(fd, chunk.join("\n") + "\n"); chunk = []; }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join("\n") + "\n");
  fs.closeSync(fd);
  if (schemaFile) fs.writeFileSync(schemaFile, JSON.stringify(schemaJSON(ldb, data.schema)) + "\n");
  return data.numRows;
}
