// One rules file for a fleet, judged by a real Prometheus: it scrapes two
// node_exporters (two "hosts", each over its own textfile directory) whose
// jobs differ, evaluates the file `promfile rules` printed once, with no
// per-host input, and every alert must fire on the right host and job only:
// a missed run, a failure and its recovery, a hang past --timeout and a
// stale file. The textfiles are written by the built CLI with the real clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExposition } from '../../src/format/parse.js';
import { NODE_EXPORTER, requireBinary } from '../helpers/binaries.js';
import { promfile, promfileAsync, tempDir, type CliResult } from '../helpers/cli.js';
import { freePort, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const PROMETHEUS = requireBinary('prometheus');

/** An alert as Prometheus' /api/v1/alerts lists it. */
interface ActiveAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: string;
  readonly activeAt: string;
  readonly value: string;
}

/** Which alert, on which host, for which job: "PromfileJobFailed a/etl". */
type Key = string;

interface Host {
  readonly name: 'a' | 'b';
  readonly dir: string;
  readonly exporter: NodeExporter;
  readonly instance: string;
}

async function startPrometheus(dir: string, rules: string, targets: readonly string[]): Promise<{ url: string; child: ChildProcess }> {
  await writeFile(join(dir, 'rules.yml'), rules);
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s}',
      'rule_files: [rules.yml]',
      `scrape_configs: [{job_name: node, static_configs: [{targets: [${targets.map((t) => `'${t}'`).join(', ')}]}]}]`,
      '',
    ].join('\n'),
  );
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      PROMETHEUS as string,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && child.exitCode === null; i++) {
      if (
        await fetch(`${url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return { url, child };
      await sleep(50);
    }
    await stopChild(child);
  }
  throw new Error('prometheus did not start');
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

describe.skipIf(!PROMETHEUS || !NODE_EXPORTER)('one rules file, a real Prometheus, two hosts', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let prometheus: { url: string; child: ChildProcess } | undefined;
  const hosts: Host[] = [];

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('promfile-fleet-'));
    for (const name of ['a', 'b'] as const) {
      const dir = join(root, name);
      await mkdir(dir);
      const exporter = await startNodeExporter(dir);
      hosts.push({ name, dir, exporter, instance: new URL(exporter.url).host });
    }
    // The one rules file: generated once, from nothing but its flags (`for: 0s` keeps the test short).
    const generated = promfile(['rules', '--for', '0s']);
    expect(generated.stderr).toBe('');
    expect(generated.status).toBe(0);
    prometheus = await startPrometheus(
      root,
      generated.stdout,
      hosts.map((h) => h.instance),
    );
  }, 60_000);

  afterAll(async () => {
    await stopChild(prometheus?.child);
    for (const host of hosts) await host.exporter.stop();
    await cleanup?.();
  });

  const host = (name: 'a' | 'b'): Host => hosts.find((h) => h.name === name) as Host;
  const run = (on: 'a' | 'b', job: string, flags: string[], command: string[]): Promise<CliResult> =>
    promfileAsync(['run', '--dir', host(on).dir, '--job', job, ...flags, '--', ...command]);

  async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const response = await fetch(`${prometheus?.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return ((await response.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data
      .result;
  }

  /** Every alert seen active so far, by key, with its first activeAt and its value when last seen. */
  const seen = new Map<Key, { activeAt: number; value: number }>();
  let active = new Set<Key>();

  async function poll(): Promise<void> {
    const response = await fetch(`${prometheus?.url}/api/v1/alerts`);
    const alerts = ((await response.json()) as { data: { alerts: ActiveAlert[] } }).data.alerts;
    active = new Set();
    for (const alert of alerts) {
      const on = hosts.find((h) => h.instance === alert.labels['instance'])?.name ?? alert.labels['instance'];
      const key = `${alert.labels['alertname']} ${on}/${alert.labels['job_name'] ?? ''}`;
      expect(alert.labels['job'], key).toBe('node');
      active.add(key);
      const first = seen.get(key)?.activeAt ?? Date.parse(alert.activeAt) / 1000;
      seen.set(key, { activeAt: first, value: Number(alert.value) });
    }
  }

  /** Poll the alerts (every 250 ms, at most `seconds`) until `done` holds. */
  async function until(what: string, seconds: number, done: () => boolean): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      await poll();
      if (done()) return;
      if (Date.now() > deadline) throw new Error(`${what}: not after ${seconds}s; active: ${[...active].join(', ')}`);
      await sleep(250);
    }
  }

  /** The job's start as its file records it (seconds). */
  async function startOf(on: 'a' | 'b', job: string): Promise<number> {
    const text = await readFile(join(host(on).dir, `${job}.prom`), 'utf8');
    const family = readExposition(text).families.find((f) => f.name === 'promfile_job_last_start_timestamp_seconds');
    return family?.samples[0]?.value ?? Number.NaN;
  }

  it('each alert fires on its host and job only, after its own threshold, and resolves when the job recovers', async () => {
    const began = Date.now();
    for (let i = 0; i < 120 && (await query('up == 1')).length < 2; i++) await sleep(250);
    expect(await query('up == 1')).toHaveLength(2);

    const hang = run('b', 'report', ['--every', '1h', '--timeout', '2s', '--kill-after', '6s'], ['sh', '-c', 'trap "" TERM; sleep 60']);
    const first = await Promise.all([
      // a: a missed run (due 14 s after it started, grace 1 s; stale only at 29 s), a failure, a job with no schedule and no timeout,
      // and a job running past b's timeout but within its own.
      run('a', 'backup', ['--every', '14s', '--grace', '1s'], ['true']),
      run('a', 'etl', ['--every', '1h'], ['sh', '-c', 'exit 3']),
      run('a', 'quiet', [], ['true']),
      run('a', 'cleanup', ['--stale-after', '1h'], ['true']),
      run('a', 'report', ['--every', '1h', '--timeout', '1h'], ['sleep', '5']),
      // b: the same etl succeeding, a job missing its runs until its file is stale (2 × 2 s + 1 s),
      // a first run with no timeout and no median yet, and an unscheduled job stale after its own 4 s.
      // (a's cleanup records 1 h: the same name, stale on b only.)
      run('b', 'etl', ['--every', '1h'], ['true']),
      run('b', 'sync', ['--every', '2s', '--grace', '1s'], ['true']),
      run('b', 'long', [], ['sleep', '5']),
      run('b', 'cleanup', ['--stale-after', '4s'], ['true']),
    ]);
    expect(first.map((r) => r.status)).toEqual([0, 3, 0, 0, 0, 0, 0, 0, 0]);
    expect(first.map((r) => r.stderr).join('')).toBe('');

    const phase1 = [
      'PromfileJobMissedRun a/backup',
      'PromfileJobFailed a/etl',
      'PromfileJobMissedRun b/sync',
      'PromfileTextfileStale b/sync',
      'PromfileTextfileStale b/cleanup',
      'PromfileJobRunningTooLong b/report',
    ];
    await until('the first alerts', 40, () => phase1.every((key) => seen.has(key)));
    const backupStart = await startOf('a', 'backup');
    const hung = await hang;
    expect(hung.status).toBe(124);
    await until('the timed-out run recorded', 15, () => active.has('PromfileJobFailed b/report'));
    expect(active.has('PromfileJobRunningTooLong b/report')).toBe(false);

    // Recovery on a: etl succeeds, backup runs again (and is now due in an hour).
    const second = await Promise.all([run('a', 'etl', ['--every', '1h'], ['true']), run('a', 'backup', ['--every', '1h'], ['true'])]);
    expect(second.map((r) => r.status)).toEqual([0, 0]);
    await until('a recovered', 20, () => !active.has('PromfileJobFailed a/etl') && !active.has('PromfileJobMissedRun a/backup'));
    // Two more evaluations: nothing else starts firing.
    await sleep(2500);
    await poll();

    expect([...seen.keys()].sort()).toEqual([...phase1, 'PromfileJobFailed b/report'].sort());
    expect([...active].sort()).toEqual([
      'PromfileJobFailed b/report',
      'PromfileJobMissedRun b/sync',
      'PromfileTextfileStale b/cleanup',
      'PromfileTextfileStale b/sync',
    ]);
    expect(seen.get('PromfileJobFailed a/etl')?.value).toBe(3);
    expect(seen.get('PromfileJobFailed b/report')?.value).toBe(124);

    // None fired before its threshold: each job's own, from its own file.
    const after = (key: Key, start: number, seconds: number): void =>
      expect((seen.get(key)?.activeAt ?? 0) - start, key).toBeGreaterThanOrEqual(seconds - 0.001);
    after('PromfileJobMissedRun a/backup', backupStart, 15);
    const syncStart = await startOf('b', 'sync');
    after('PromfileJobMissedRun b/sync', syncStart, 3);
    after('PromfileTextfileStale b/sync', syncStart, 5);
    after('PromfileTextfileStale b/cleanup', await startOf('b', 'cleanup'), 4);
    after('PromfileJobRunningTooLong b/report', await startOf('b', 'report'), 2);
    expect(Date.now() - began).toBeLessThan(90_000);
  }, 120_000);
});
