// A Node batch job that already uses prom-client writes its registry into
// node_exporter's textfile directory, validated and atomically.
//
//   npm run build && node examples/write-registry.mjs [DIR]
//
// DIR defaults to $PROMFILE_DIR, else /var/lib/prometheus/node-exporter. A DIR
// given here is created if missing (a scratch directory to try the example in);
// the textfile directory itself is not: node_exporter does not create it either.
// `promfile` resolves to this package itself (package self-reference), as it
// would from node_modules in your own project.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { writeRegistry } from 'promfile';

const dir = process.argv[2] ?? process.env.PROMFILE_DIR ?? '/var/lib/prometheus/node-exporter';
const options = process.argv[2] === undefined ? {} : { mkdir: true };

// A registry of its own: no collectDefaultMetrics() (writeRegistry refuses
// process_*/nodejs_* metrics, which would describe this short-lived script).
const registry = new Registry();
const size = new Gauge({ name: 'backup_size_bytes', help: 'Size of the last backup', labelNames: ['volume'], registers: [registry] });
const files = new Counter({
  name: 'backup_files_total',
  help: 'Files copied by the last backup',
  labelNames: ['volume'],
  registers: [registry],
});
const fileSeconds = new Histogram({
  name: 'backup_file_duration_seconds',
  help: 'Time to copy one file',
  buckets: [0.01, 0.1, 1, 10],
  registers: [registry],
});
const lastSuccess = new Gauge({
  name: 'backup_last_success_timestamp_seconds',
  help: 'When the last backup succeeded',
  registers: [registry],
});

// ... the job itself; here, made-up figures.
for (const [volume, bytes, count] of [
  ['home', 1.2e9, 5210],
  ['etc', 4.1e6, 1337],
]) {
  size.set({ volume }, bytes);
  files.inc({ volume }, count);
}
for (const seconds of [0.004, 0.05, 0.05, 0.3, 2.5]) fileSeconds.observe(seconds);
lastSuccess.set(Date.now() / 1000);

try {
  console.log(await writeRegistry(registry, { dir, name: 'backup' }, options));
} catch (error) {
  // promfile's errors are one line each, with a stable code to branch on.
  console.error(`write-registry: ${error.message}${error.code ? ` [${error.code}]` : ''}`);
  process.exitCode = 1;
}
