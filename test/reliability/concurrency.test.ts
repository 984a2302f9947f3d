// Many writers at once: set, inc and run on one file and on many files. No
// update may be lost, no file may be corrupt, nothing may deadlock (every
// process ends within its lock timeout), and a lock whose holder was killed
// must not block anyone.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/format/parse.js';
import type { MetricFamily } from '../../src/format/types.js';
import { promfile, promfileAsync, type CliResult } from '../helpers/cli.js';
import { holdLock } from '../helpers/locks.js';
import { scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const LOCK = ['--lock-timeout', '60s'];

function familiesOf(path: string): MetricFamily[] {
  return parseExposition(readFileSync(path), { source: path });
}

function valueOf(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return families.find((f) => f.name === name)?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}

function expectAllOk(results: CliResult[]): void {
  const failed = results.filter((r) => r.status !== 0);
  expect(
    failed.map((r) => r.stderr.trim()),
    `${failed.length} of ${results.length} processes failed`,
  ).toEqual([]);
}

/** A pid that certainly belonged to a process that is gone now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('concurrent writers', () => {
  const suite = useNodeExporter('promfile-concurrency-');
  let dir: string;
  let exporter: NodeExporter;
  beforeAll(() => ({ dir, exporter } = suite));

  async function expectScrapeClean(): Promise<void> {
    expect(scrapeError(await exporter.scrape())).toBe(0);
  }

  it('40 concurrent set on one file keep every series', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        promfileAsync(['set', '--dir', dir, '-f', 'shared', ...LOCK, `concurrent_set_value{writer="${i}"}`, String(i)]),
      ),
    );
    expectAllOk(results);
    const families = familiesOf(join(dir, 'shared.prom'));
    expect(families.find((f) => f.name === 'concurrent_set_value')?.samples).toHaveLength(40);
    for (let i = 0; i < 40; i++) expect(valueOf(families, 'concurrent_set_value', { writer: String(i) })).toBe(i);
    await expectScrapeClean();
  }, 120_000); // a bound, not a goal: shared CI machines can be far busier than 2 idle cores

  it('set, inc and run mixed on one file lose no increment and no run', async () => {
    const jobs: Array<Promise<CliResult>> = [];
    for (let i = 0; i < 15; i++) {
      jobs.push(promfileAsync(['inc', '--dir', dir, '-f', 'mixed', ...LOCK, 'mixed_events_total']));
      jobs.push(promfileAsync(['run', '--dir', dir, '-f', 'mixed', ...LOCK, '--job', 'mixedjob', '--', 'true']));
      jobs.push(promfileAsync(['set', '--dir', dir, '-f', 'mixed', ...LOCK, `mixed_gauge{writer="${i}"}`, String(i)]));
    }
    expectAllOk(await Promise.all(jobs));
    const families = familiesOf(join(dir, 'mixed.prom'));
    expect(valueOf(families, 'mixed_events_total')).toBe(15);
    expect(valueOf(families, 'promfile_job_runs_total', { job_name: 'mixedjob', result: 'success' })).toBe(15);
    expect(families.find((f) => f.name === 'mixed_gauge')?.samples).toHaveLength(15);
    await expectScrapeClean();
  }, 120_000); // a bound, not a goal: shared CI machines can be far busier than 2 idle cores

  it('30 writers on 30 different files all land, each file valid', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        promfileAsync(['write', '--dir', dir, '-f', `many-${i}`, ...LOCK], {
          input: `# TYPE many_files_value gauge\nmany_files_value{file="${i}"} ${i}\n`,
        }),
      ),
    );
    expectAllOk(results);
    for (let i = 0; i < 30; i++) expect(valueOf(familiesOf(join(dir, `many-${i}.prom`)), 'many_files_value', { file: String(i) })).toBe(i);
    await expectScrapeClean();
  }, 120_000); // a bound, not a goal: shared CI machines can be far busier than 2 idle cores

  it('a lock file naming a dead pid (written by an old version) blocks nobody', async () => {
    const lock = join(dir, '.stale.prom.lock');
    writeFileSync(lock, `${await deadPid()} ${hostname()} 0123456789ab\n`);
    const started = Date.now();
    const result = promfile(['set', '--dir', dir, '-f', 'stale', '--lock-timeout', '10s', 'stale_lock_value', '1']);
    expect(result.status, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(valueOf(familiesOf(join(dir, 'stale.prom')), 'stale_lock_value')).toBe(1);
  });

  it('a lock killed mid-way (SIGKILL while held) does not block the next writer', async () => {
    // A holder that takes the lock through the library and is then killed.
    const script = `
      const { acquireLock, lockPathFor } = await import(${JSON.stringify(new URL('../../dist/textfile/lock.js', import.meta.url).href)});
      await acquireLock(lockPathFor(${JSON.stringify(join(dir, 'killed.prom'))}));
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);
    `;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    expect(readdirSync(dir)).toContain('.killed.prom.lock');
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.on('exit', resolve));
    const result = promfile(['set', '--dir', dir, '-f', 'killed', '--lock-timeout', '10s', 'killed_lock_value', '1']);
    expect(result.status, result.stderr).toBe(0);
  });

  it('an old empty lock file blocks nobody', () => {
    const lock = join(dir, '.garbage.prom.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const result = promfile(['set', '--dir', dir, '-f', 'garbage', '--lock-timeout', '10s', 'garbage_lock_value', '1']);
    expect(result.status, result.stderr).toBe(0);
  });

  it('a lock held by a live process times out with exit 1 and a clear error, file untouched', async () => {
    expect(promfile(['set', '--dir', dir, '-f', 'busy', 'busy_value', '1']).status).toBe(0);
    const before = readFileSync(join(dir, 'busy.prom'));
    const holder = await holdLock(join(dir, '.busy.prom.lock'));
    try {
      const result = promfile(['set', '--dir', dir, '-f', 'busy', '--lock-timeout', '300ms', 'busy_value', '2']);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`promfile: timed out after 300 ms waiting for lock ${join(dir, '.busy.prom.lock')}\n`);
    } finally {
      await holder.release();
    }
    expect(readFileSync(join(dir, 'busy.prom')).equals(before)).toBe(true);
  });
});
