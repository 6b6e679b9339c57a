// Print every record exactly as s3db.js 21.6.2 get() returns it (for the codec's interop tests).
//
//   node read_records.mjs --connection <s3db connection string> [--resources a,b]
//
// stdout: one JSON line {"<resource>": {"<id>": {"record": <get() without its internals (INTERNALS)>, "v": <_v>,
//                                                "error": <message if get() threw>}}}
// JSON.stringify turns undefined members into nothing and NaN into null, as the codec's decoded records do;
// Buffers (buffer/bits attributes) become {"buffer": <base64>}.
import { openDatabase, parseArgs, run } from './lib.mjs';

const USAGE = 'node read_records.mjs --connection <conn> [--resources a,b]';
const PAGE = 1000;
// What get() sets on every record (hydrateObject, applyVersionMapping); any other key is record data, even one
// starting with "_" (body-only's get() returns a body's "_" keys unfiltered).
const INTERNALS = new Set(['_contentLength', '_lastModified', '_hasContent', '_mimeType', '_etag', '_v', '_versionId',
  '_expiresAt', '_definitionHash', '_originalVersion', '_versionMapped']);

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return { buffer: value.toString('base64') };
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) out[key] = canonical(value[key]);
    return out;
  }
  return value;
}

async function main() {
  const { args } = parseArgs('read_records.mjs', process.argv.slice(2), { connection: undefined, resources: '' }, USAGE);
  const db = openDatabase(args.connection);
  await db.connect();
  const wanted = args.resources ? args.resources.split(',') : Object.keys(db.resources);
  const out = {};
  try {
    for (const name of wanted) {
      const resource = db.resources[name];
      const ids = [];
      for (let offset = 0; ; offset += PAGE) {
        const page = await resource.listIds({ limit: PAGE, offset });
        ids.push(...page);
        if (page.length < PAGE) break;
      }
      const records = {};
      for (const id of ids) {
        try {
          const got = await resource.get(id);
          const visible = {};
          for (const [key, value] of Object.entries(got)) if (!INTERNALS.has(key)) visible[key] = value;
          records[id] = { record: canonical(visible), v: got._v };
        } catch (err) {
          records[id] = { error: String(err?.message ?? err) };
        }
      }
      out[name] = records;
    }
  } finally {
    await db.disconnect();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

run('read_records.mjs', main);
