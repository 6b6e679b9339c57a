// Benchmarks: the s3db.js 21.6.2 BackupPlugin, tried as a new user would (filesystem driver, gzip), on a
// database already in S3. `--mode backup` prints time, peak RSS, what the plugin reported and how many records
// its archive really holds; `--mode restore --id ID` (after the records were lost) restores the backup into
// the same database and prints how many records it holds afterwards.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BackupPlugin } from 's3db.js/plugins/backup.plugin';
import { openDatabase, parseArgs, run } from './lib.mjs';

// This process's own peak RSS (VmHWM). Not resourceUsage().maxRSS: Linux carries the parent's high-water
// mark into a child started with vfork+exec, so maxRSS would report the Python benchmark driver's peak.
function peakRssMiB() {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    if (line) return Number(line.split(/\s+/)[1]) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// Count JSON lines that parse in whatever the archive holds, however it is wrapped.
function readableRecords(buffer) {
  let text;
  try { text = gunzipSync(buffer).toString('utf8'); } catch { text = buffer.toString('utf8'); }
  let count = 0;
  const visit = (value) => {
    if (typeof value === 'string') {
      for (const line of value.split('\n')) {
        try { const rec = JSON.parse(line); if (rec && typeof rec === 'object' && 'id' in rec) count += 1; } catch { /* not a record */ }
      }
      try { visit(gunzipSync(Buffer.from(value, 'base64')).toString('utf8')); } catch { /* not base64 gzip */ }
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) visit(v);
    }
  };
  try { visit(JSON.parse(text)); } catch { visit(text); }
  return count;
}

run('bench_backupplugin.mjs', async () => {
  const { args } = parseArgs('bench_backupplugin.mjs', process.argv.slice(2),
    { connection: undefined, dir: undefined, mode: 'backup', id: '' },
    'node bench_backupplugin.mjs --connection <conn> --dir <path> [--mode backup|restore --id <backupId>]');
  const db = openDatabase(args.connection);
  await db.connect();
  const plugin = new BackupPlugin({ driver: 'filesystem', config: { path: args.dir }, compression: 'gzip' });
  await db.usePlugin(plugin);
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const report = {};
  if (args.mode === 'backup') {
    report.recordsInSource = await db.resources.items.count();
    try {
      const result = await plugin.backup('full');
      Object.assign(report, { reportedSuccess: true, backupId: result.id, error: null });
    } catch (err) {
      Object.assign(report, { reportedSuccess: false, backupId: null, error: String(err?.message ?? err) });
    }
    const files = filesUnder(args.dir).filter((f) => !f.endsWith('.tmp'));
    report.archiveFiles = files.length;
    report.archiveBytes = files.reduce((n, f) => n + statSync(f).size, 0);
    report.recordsReadableInArchive = files.reduce((n, f) => n + readableRecords(readFileSync(f)), 0);
  } else {
    try {
      const result = await plugin.restore(args.id);
      Object.assign(report, { reportedSuccess: true, error: null, reported: result.restored });
    } catch (err) {
      Object.assign(report, { reportedSuccess: false, error: String(err?.message ?? err) });
    }
    report.recordsAfterRestore = await db.resources.items.count();
  }
  const cpu = process.cpuUsage(cpuStart);
  Object.assign(report, { seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: peakRssMiB() });
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(0);
});
