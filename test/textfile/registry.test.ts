// The prom-client bridge, judged by the real node_exporter: what a Registry
// holds arrives whole (histograms and summaries included), and what
// node_exporter would not take is refused with nothing written.
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, lockPathFor } from '../../src/textfile/lock.js';
import { InputError } from '../../src/errors.js';
import { isDefaultMetricName, writeRegistry, type RegistryLike } from '../../src/textfile/registry.js';
import { ROOT, promfile } from '../helpers/cli.js';
import { promtoolCheck, samplesOf, scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const suite = useNodeExporter('promfile-registry-');
let dir: string;
let exporter: NodeExporter;
beforeAll(() => ({ dir, exporter } = suite));

/**
 * A registry like a batch job's: every metric type, labels, values that need
 * escaping. `prefix` keeps the files of different tests apart in the one
 * node_exporter (the same series in two files would collide there).
 */
function jobRegistry(prefix = 'job'): Registry {
  const registry = new Registry();
  new Gauge({
    name: `${prefix}_size_bytes`,
    help: 'Size of the "last" backup\\ in bytes',
    labelNames: ['volume'],
    registers: [registry],
  }).set({ volume: 'a "quoted"\\path\nline' }, 1.2e9);
  new Counter({ name: `${prefix}_files_total`, help: 'Files copied', labelNames: ['volume'], registers: [registry] }).inc(
    { volume: 'home' },
    5210,
  );
  const histogram = new Histogram({
    name: `${prefix}_file_seconds`,
    help: 'Time per file',
    labelNames: ['volume'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  for (const seconds of [0.05, 0.5, 0.7, 3]) histogram.observe({ volume: 'home' }, seconds);
  const summary = new Summary({ name: `${prefix}_batch_seconds`, help: 'Time per batch', percentiles: [0.5, 0.9], registers: [registry] });
  for (const seconds of [1, 2, 3, 4]) summary.observe(seconds);
  return registry;
}

/** The directory's files; lock files stay between writes (empty, harmless) and are left out. */
async function listing(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.endsWith('.lock')).sort();
}

describe('writeRegistry', () => {
  it('writes every metric type so that node_exporter exports all of it', async () => {
    const path = await writeRegistry(jobRegistry(), { dir, name: 'types' });
    expect(path).toBe(join(dir, 'types.prom'));
    const content = await readFile(path, 'utf8');
    expect(promtoolCheck(content).status).toBe(0);

    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'job_size_bytes')).toEqual(['job_size_bytes{volume="a \\"quoted\\"\\\\path\\nline"} 1.2e+09']);
    expect(scrape).toContain('# HELP job_size_bytes Size of the "last" backup\\\\ in bytes');
    expect(samplesOf(scrape, 'job_files_total')).toEqual(['job_files_total{volume="home"} 5210']);
    expect(samplesOf(scrape, 'job_file_seconds_bucket')).toEqual([
      'job_file_seconds_bucket{volume="home",le="0.1"} 1',
      'job_file_seconds_bucket{volume="home",le="1"} 3',
      'job_file_seconds_bucket{volume="home",le="+Inf"} 4',
    ]);
    expect(samplesOf(scrape, 'job_file_seconds_sum')).toEqual(['job_file_seconds_sum{volume="home"} 4.25']);
    expect(samplesOf(scrape, 'job_file_seconds_count')).toEqual(['job_file_seconds_count{volume="home"} 4']);
    expect(scrape).toContain('# TYPE job_batch_seconds summary');
    expect(samplesOf(scrape, 'job_batch_seconds')).toHaveLength(2);
    expect(samplesOf(scrape, 'job_batch_seconds_sum')).toEqual(['job_batch_seconds_sum 10']);
    expect(samplesOf(scrape, 'job_batch_seconds_count')).toEqual(['job_batch_seconds_count 4']);
    expect(await listing()).toEqual(['types.prom']);
  });

  it('merges into the existing file under the lock with merge: true, and replaces it by default', async () => {
    const path = join(dir, 'merged.prom');
    const set = promfile([
      'set',
      '--dir',
      dir,
      '-f',
      'merged',
      'other_metric=5',
      'm_files_total{volume="etc"}=7',
      'm_files_total{volume="home"}=1',
    ]);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);

    await writeRegistry(jobRegistry('m'), { path }, { merge: true });
    let scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'other_metric')).toEqual(['other_metric 5']);
    // The registry's series replace the file's; the file's others stay.
    expect(samplesOf(scrape, 'm_files_total').sort()).toEqual(['m_files_total{volume="etc"} 7', 'm_files_total{volume="home"} 5210']);
    expect(samplesOf(scrape, 'm_file_seconds_count')).toEqual(['m_file_seconds_count{volume="home"} 4']);

    // While another writer holds the lock, a merge waits, then gives up and writes nothing.
    const before = await readFile(path, 'utf8');
    const lock = await acquireLock(lockPathFor(path));
    try {
      await expect(writeRegistry(jobRegistry('m'), { path }, { merge: true, lockTimeoutMs: 200 })).rejects.toMatchObject({
        code: 'ERR_LOCK_TIMEOUT',
      });
    } finally {
      await lock.release();
    }
    expect(await readFile(path, 'utf8')).toBe(before);

    await writeRegistry(jobRegistry('m'), { dir, name: 'merged' });
    scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'other_metric')).toEqual([]);
    expect(samplesOf(scrape, 'm_files_total')).toEqual(['m_files_total{volume="home"} 5210']);
  });

  describe('refuses, writing nothing (no file, no temp file)', () => {
    const refusals: Array<[string, () => RegistryLike, RegExp]> = [
      [
        'default metrics',
        () => {
          const registry = jobRegistry('d');
          collectDefaultMetrics({ register: registry });
          return registry;
        },
        /default metrics \(nodejs_active_handles, .* and \d+ more\).*without collectDefaultMetrics/,
      ],
      [
        'default metrics under a prefix',
        () => {
          const registry = new Registry();
          collectDefaultMetrics({ register: registry, prefix: 'myjob_' });
          return registry;
        },
        /default metrics \(myjob_/,
      ],
      [
        'OpenMetrics output',
        // prom-client's types omit the constructor's content-type parameter.
        () => new (Registry as unknown as new (contentType: string) => Registry)(Registry.OPENMETRICS_CONTENT_TYPE),
        /openmetrics-text.*not the Prometheus text format/,
      ],
      [
        'a label name node_exporter reserves',
        () => {
          const registry = new Registry();
          new Gauge({ name: 'r_gauge', help: 'h', labelNames: ['__secret'], registers: [registry] }).set({ __secret: 'x' }, 1);
          return registry;
        },
        /label name "__secret" is reserved/,
      ],
      [
        'a suffix collision between two metrics',
        () => {
          const registry = new Registry();
          new Histogram({ name: 'r_latency', help: 'h', registers: [registry] }).observe(1);
          new Gauge({ name: 'r_latency_count', help: 'h', registers: [registry] }).set(1);
          return registry;
        },
        /second HELP line for metric name "r_latency"/,
      ],
      ['timestamps', () => ({ metrics: () => '# HELP r_ts h\n# TYPE r_ts gauge\nr_ts 1 1700000000000\n' }), /timestamp/],
      ['a duplicate series', () => ({ metrics: async () => '# TYPE r_dup gauge\nr_dup{a="1"} 1\nr_dup{a="1"} 2\n' }), /duplicate series/],
      ['an empty registry', () => new Registry(), /nothing to write/],
      ['something that is not a registry', () => ({}) as RegistryLike, /needs a prom-client Registry/],
    ];

    it.each(refusals)('%s', async (_what, make, message) => {
      const existing = join(dir, 'kept.prom');
      await writeFile(existing, '# HELP kept_metric Kept.\n# TYPE kept_metric gauge\nkept_metric 1\n');
      const before = await listing();
      const error: unknown = await writeRegistry(make(), { dir, name: 'refused' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ message: expect.stringMatching(message) });
      await expect(writeRegistry(make(), { path: existing })).rejects.toBeInstanceOf(InputError);
      expect(await readFile(existing, 'utf8')).toBe('# HELP kept_metric Kept.\n# TYPE kept_metric gauge\nkept_metric 1\n');
      expect(await listing()).toEqual(before);
      expect(before).not.toContain('refused.prom');
    });
  });

  it('recognizes prom-client default metric names, with or without a prefix, and nothing else', () => {
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_heap_space_size_used_bytes',
      'app_process_start_time_seconds',
      'app_nodejs_version_info',
    ]) {
      expect(isDefaultMetricName(name), name).toBe(true);
    }
    for (const name of ['backup_size_bytes', 'processed_items_total', 'job_processes', 'app_process_items_total']) {
      expect(isDefaultMetricName(name), name).toBe(false);
    }
  });
});

describe('examples/write-registry.mjs', () => {
  it('runs against the built package and writes a file node_exporter accepts', async () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'examples', 'write-registry.mjs'), dir], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${join(dir, 'backup.prom')}\n`);
    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'backup_size_bytes').sort()).toEqual([
      'backup_size_bytes{volume="etc"} 4.1e+06',
      'backup_size_bytes{volume="home"} 1.2e+09',
    ]);
    expect(samplesOf(scrape, 'backup_file_duration_seconds_count')).toEqual(['backup_file_duration_seconds_count 5']);
  });
});

describe('importing promfile', () => {
  /** Import dist/index.js in a fresh node, optionally do more, and list the prom-client modules loaded. */
  function promClientModulesAfter(then: string): string[] {
    const script = `
      import { createRequire } from 'node:module';
      const promfile = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
      ${then}
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('prom-client'));
      console.log(JSON.stringify(loaded));
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '--eval', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return JSON.parse(result.stdout) as string[];
  }

  it('does not load prom-client, not even for a push (which speaks HTTP itself, reading a bounded answer)', () => {
    expect(promClientModulesAfter('')).toEqual([]);
    const afterPush = promClientModulesAfter(
      "await promfile.deletePushGroup({ gateway: 'http://127.0.0.1:1', job: 'x', timeoutMs: 2000 }).catch(() => undefined);",
    );
    expect(afterPush).toEqual([]);
    // The same check sees prom-client once something loads it (so the empty lists above mean something).
    expect(promClientModulesAfter("createRequire(import.meta.url)('prom-client');").length).toBeGreaterThan(0);
  });
});
