// Read an existing s3db.js database with the real s3db.js 21.6.2 and print one canonical JSON document.
//
//   node snapshot.mjs --connection <s3db connection string>
//
// db.connect() reads <prefix>/s3db.json and builds every resource from it (its currentVersion's
// attributes, behavior, timestamps and partitions), so no resource is declared here.
//
// Output (keys sorted at every level, so two snapshots compare with ==):
//   {"resources": {"<name>": {
//       "count": <resource.count()>,
//       "records": [<getAll() record without "_"-prefixed keys>, ...]   sorted by id,
//       "partitions": {"<partition>": {"<field>=<value>[/<field>=<value>...]": [<ids>], ...}, ...}}}}
// A partition's values are those present in its stored references and those its records imply;
// each one's ids are what listIds({partition, partitionValues}) returns, sorted.
import { openDatabase, parseArgs, run } from './lib.mjs';

const USAGE = 'node snapshot.mjs --connection <conn>';
const PAGE = 1000;

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical(value[key]);
    return out;
  }
  return value;
}

const byString = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

function userVisible(record) {
  const out = {};
  for (const [key, value] of Object.entries(record)) {
    if (!key.startsWith('_')) out[key] = value;
  }
  return out;
}

// "resource=users/partition=byCountry/country=BR/id=u-00001" -> "country=BR"
function segmentsOf(key, partitionName) {
  const parts = key.split('/');
  const start = parts.indexOf(`partition=${partitionName}`);
  if (start < 0) return null;
  const segments = parts.slice(start + 1).filter((part) => !part.startsWith('id='));
  return segments.length > 0 ? segments.join('/') : null;
}

function partitionValuesOf(segments) {
  const values = {};
  for (const segment of segments.split('/')) {
    const eq = segment.indexOf('=');
    values[segment.slice(0, eq)] = segment.slice(eq + 1);
  }
  return values;
}

async function allIds(resource, options) {
  const ids = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await resource.listIds({ ...options, limit: PAGE, offset });
    ids.push(...page);
    if (page.length < PAGE) break;
  }
  return ids;
}

async function snapshotResource(db, resource) {
  const records = (await resource.getAll()).map(userVisible).sort((a, b) => byString(String(a.id), String(b.id)));
  const count = await resource.count();

  const partitions = {};
  const definitions = resource.config?.partitions || {};
  for (const partitionName of Object.keys(definitions).sort()) {
    const present = new Set();
    const keys = await db.client.getAllKeys({ prefix: `resource=${resource.name}/partition=${partitionName}/` });
    for (const key of keys) {
      const segments = segmentsOf(key, partitionName);
      if (segments) present.add(segments);
    }
    for (const record of records) {
      const key = resource.getPartitionKey({ partitionName, id: record.id, data: record });
      const segments = key ? segmentsOf(key, partitionName) : null;
      if (segments) present.add(segments);
    }
    const listing = {};
    for (const segments of [...present].sort(byString)) {
      const ids = await allIds(resource, { partition: partitionName, partitionValues: partitionValuesOf(segments) });
      listing[segments] = ids.sort(byString);
    }
    partitions[partitionName] = listing;
  }
  return { count, records, partitions };
}

async function main() {
  const { args } = parseArgs('snapshot.mjs', process.argv.slice(2), { connection: undefined }, USAGE);
  const db = openDatabase(args.connection);
  await db.connect();
  const out = { resources: {} };
  try {
    for (const name of Object.keys(db.resources).sort(byString)) {
      const started = Date.now();
      out.resources[name] = await snapshotResource(db, db.resources[name]);
      process.stderr.write(`snapshot: ${name}: ${out.resources[name].records.length} records ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await db.disconnect();
  }
  process.stdout.write(`${JSON.stringify(canonical(out))}\n`);
}

run('snapshot.mjs', main);
