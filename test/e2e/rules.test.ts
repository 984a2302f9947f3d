// The rules `promfile rules` generates, judged by promtool: `check rules` on
// both formats, and `test rules` scenarios (missed run, failure, hang,
// recovery, DST day, one file for two hosts whose jobs differ) over series
// that the real `promfile run` wrote, in process with a controlled clock,
// turned into promtool's input series as node_exporter would have exposed
// each file over time. test/e2e/fleet-rules.test.ts runs the same file in a
// real Prometheus.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readExposition } from '../../src/format/parse.js';
import { PROMTOOL } from '../helpers/binaries.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { createTestIo } from '../helpers/io.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const TARGET = { job: 'node', instance: 'db1:9100' };

/** The file as node_exporter exposes it from `atMs` on: series text → value. */
interface Snapshot {
  readonly atMs: number;
  readonly series: ReadonlyMap<string, number>;
}

function seriesText(name: string, labels: Readonly<Record<string, string>>, instance = TARGET.instance): string {
  const all = { ...labels, ...TARGET, instance };
  return `${name}{${Object.entries(all)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

async function snapshot(path: string, atMs: number, file = path, instance = TARGET.instance): Promise<Snapshot> {
  const series = new Map<string, number>();
  for (const family of readExposition(await readFile(path, 'utf8')).families)
    for (const sample of family.samples) series.set(seriesText(sample.name, sample.labels, instance), sample.value);
  // node_exporter's own view of the file: its mtime is the time of the last write.
  series.set(seriesText('node_textfile_mtime_seconds', { file }, instance), atMs / 1000);
  series.set(seriesText('node_textfile_scrape_error', {}, instance), 0);
  return { atMs, series };
}

/** promtool input_series: each series sampled every `stepMs` up to `endMs`, with the latest snapshot's value. */
function inputSeries(snapshots: readonly Snapshot[], stepMs: number, endMs: number): string {
  const names = [...new Set(snapshots.flatMap((s) => [...s.series.keys()]))];
  const lines: string[] = [];
  for (const name of names) {
    const runs: Array<{ value: string; count: number }> = [];
    for (let t = 0; t <= endMs; t += stepMs) {
      const current = [...snapshots].reverse().find((s) => s.atMs <= t);
      const value = current?.series.get(name);
      const text = value === undefined ? '_' : String(value);
      const last = runs.at(-1);
      if (last && last.value === text) last.count++;
      else runs.push({ value: text, count: 1 });
    }
    const values = runs.map((r) => (r.value === '_' ? `_x${r.count}` : `${r.value}x${r.count - 1}`)).join(' ');
    lines.push(`      - series: '${name}'\n        values: '${values}'`);
  }
  return lines.join('\n');
}

/** Run the real CLI in process: the clock reads `startMs` when the job starts and `endMs` when it ends. */
async function run(dir: string, args: string[], command: string[], startMs: number, endMs: number): Promise<number> {
  const times = [startMs, endMs];
  const t = createTestIo();
  const status = await main(['run', '--dir', dir, ...args, '--', ...command], { ...t.io, now: () => times.shift() ?? endMs });
  expect(t.stderr()).toBe('');
  return status;
}

interface Expectation {
  /** Minutes since the epoch, when promtool evaluates. */
  readonly at: number;
  readonly alert: string;
  readonly fires: boolean;
  /** Only the alert on these labels (instance, job_name). */
  readonly where?: Readonly<Record<string, string>>;
}

/** A promtool test file: the series, and for each expectation whether the alert is firing then. */
function testFile(rules: string, series: string, stepMs: number, expectations: readonly Expectation[]): string {
  const checks = expectations.map(
    (e) =>
      `      - expr: count(ALERTS{alertname="${e.alert}",alertstate="firing"${Object.entries(e.where ?? {})
        .map(([name, value]) => `,${name}=${JSON.stringify(value)}`)
        .join('')}})\n        eval_time: ${e.at}m\n` + `        exp_samples: ${e.fires ? "[{labels: '{}', value: 1}]" : '[]'}`,
  );
  const step = `${stepMs / MIN}m`;
  return `rule_files: [${rules}]\nevaluation_interval: ${step}\ntests:\n  - interval: ${step}\n    input_series:\n${series}\n    promql_expr_test:\n${checks.join('\n')}\n`;
}

describe.skipIf(!PROMTOOL)('promfile rules (promtool)', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir('promfile-rules-')));
  afterAll(async () => cleanup?.());

  /** The rules, printed from nothing but the flags: the jobs' directory plays no part. */
  async function rulesFor(_dir: string, extra: string[] = []): Promise<string> {
    const t = createTestIo();
    expect(await main(['rules', ...extra], t.io)).toBe(0);
    return t.stdout();
  }

  function promtool(args: string[]): { status: number | null; output: string } {
    const result = spawnSync(PROMTOOL as string, args, { encoding: 'utf8', timeout: 120_000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** Write the rules and the test, run promtool test rules on them. */
  async function scenario(
    dir: string,
    rules: string,
    snapshots: Snapshot[] | Snapshot[][],
    stepMs: number,
    endMs: number,
    expectations: Expectation[],
  ) {
    // Several files (one snapshot stream each), or one.
    const streams = (Array.isArray(snapshots[0]) ? snapshots : [snapshots]) as Snapshot[][];
    const series = streams.map((stream) => inputSeries(stream, stepMs, endMs)).join('\n');
    await writeFile(join(dir, 'rules.yml'), rules);
    await writeFile(join(dir, 'test.yml'), testFile('rules.yml', series, stepMs, expectations));
    const result = promtool(['test', 'rules', join(dir, 'test.yml')]);
    expect(result.status, result.output).toBe(0);
  }

  /** Runs of one job: [start, end, command]; a snapshot of the file after each. */
  async function history(
    name: string,
    args: string[],
    runs: Array<[number, number, string[]]>,
  ): Promise<{ dir: string; snapshots: Snapshot[] }> {
    const dir = join(root, name);
    await mkdir(dir);
    const snapshots: Snapshot[] = [];
    for (const [startMs, endMs, command] of runs) {
      await run(dir, ['--job', name, ...args], command, startMs, endMs);
      snapshots.push(await snapshot(join(dir, `${name}.prom`), endMs));
    }
    return { dir, snapshots };
  }

  const hourly = ['--schedule', 'CRON_TZ=UTC 0 * * * *'];
  const ok = ['true'];
  const at = (ms: number): number => ms / MIN;

  it('passes promtool check rules in both formats', async () => {
    const dir = join(root, 'check');
    await mkdir(dir);
    await run(dir, ['--job', 'backup', '--schedule', '17 3 * * *'], ['true'], 0, 1000);
    await run(dir, ['--job', 'rotate'], ['true'], 0, 1000);
    const plain = await rulesFor(dir);
    await writeFile(join(dir, 'plain.yml'), plain);
    expect(promtool(['check', 'rules', join(dir, 'plain.yml')])).toMatchObject({ status: 0 });
    const timeout = await rulesFor(dir, ['--timeout', '2h', '--runbook-url', 'https://runbooks.example/promfile']);
    await writeFile(join(dir, 'timeout.yml'), timeout);
    expect(promtool(['check', 'rules', join(dir, 'timeout.yml')])).toMatchObject({ status: 0 });
    // The operator's PrometheusRule holds the same groups under spec:.
    const operator = await rulesFor(dir, ['--format', 'prometheus-operator']);
    expect(operator).toMatch(/^# Generated by promfile rules\.\napiVersion: monitoring\.coreos\.com\/v1\nkind: PrometheusRule\n/);
    const spec = operator.slice(operator.indexOf('spec:\n') + 6).replace(/^ {2}/gm, '');
    expect(spec).toBe(plain.slice(plain.indexOf('groups:')));
    for (const alert of [
      'PromfileJobMissedRun',
      'PromfileJobFailed',
      'PromfileJobRunningTooLong',
      'PromfileTextfileStale',
      'PromfileTextfileScrapeError',
    ])
      expect(plain).toContain(`- alert: ${alert}\n`);
    for (const block of plain.split('- alert: ').slice(1)) {
      expect(block).toMatch(/\n\s+for: \S+\n/);
      expect(block).toMatch(/\n\s+severity: '(warning|critical)'\n/);
      expect(block).toMatch(/\n\s+summary: '/);
      expect(block).toMatch(/\n\s+runbook: '/);
    }
  });

  it('docs/cron-jobs.md shows what promfile rules prints, and --dir (no longer read) changes nothing', async () => {
    const printed = await rulesFor('');
    const doc = await readFile(join(ROOT, 'docs', 'cron-jobs.md'), 'utf8');
    expect(doc).toContain(`\`\`\`yaml\n${printed.slice(printed.indexOf('groups:'))}\`\`\`\n`);
    const t = createTestIo();
    expect(await main(['rules', '--dir', join(root, 'nowhere')], t.io)).toBe(0);
    expect(t.stdout()).toBe(printed);
    // Nothing in the fleet's file is per host or per job.
    expect(printed).not.toMatch(/job_name=|file=|instance=|\.prom/);
  });

  it('one file for two hosts whose jobs differ: each alert on its own host and job, by its own thresholds', async () => {
    const dir = join(root, 'fleet');
    await mkdir(dir);
    /** One host's job: runs [start, end, command]; a hung last run is snapshotted by the job itself. */
    async function job(host: string, name: string, args: string[], runs: Array<[number, number, string[]]>, hangAt?: number) {
      const where = join(dir, host);
      await mkdir(where, { recursive: true });
      const path = join(where, `${name}.prom`);
      const snapshots: Snapshot[] = [];
      for (const [startMs, endMs, command] of runs) {
        await run(where, ['--job', name, ...args], command, startMs, endMs);
        snapshots.push(await snapshot(path, endMs, path, host));
      }
      if (hangAt !== undefined) {
        const hung = join(where, `${name}.snapshot`);
        await run(where, ['--job', name, ...args], ['cp', path, hung], hangAt, hangAt + 1000);
        snapshots.push(await snapshot(hung, hangAt, path, host));
      }
      return snapshots;
    }
    const streams = [
      // Both hosts run etl hourly and both hang at 1h, but their --timeout differs.
      await job('db1:9100', 'etl', [...hourly, '--timeout', '20m'], [[5000, 65_000, ok]], HOUR + 5000),
      await job('db2:9100', 'etl', [...hourly, '--timeout', '2h'], [[5000, 65_000, ok]], HOUR + 5000),
      // db2 also has a job with no schedule and no timeout, hung in its first run: no median yet, so
      // only the stale rule (--stale-after) watches it; db1 has none.
      await job('db2:9100', 'first', [], [], 5000),
    ];
    const on = (instance: string, name: string): Record<string, string> => ({ instance, job_name: name });
    const expect_ = (at: number, alert: string, where: Record<string, string>, fires: boolean): Expectation => ({
      at,
      alert,
      where,
      fires,
    });
    await scenario(dir, await rulesFor(dir, ['--stale-after', '90m']), streams, MIN, 3 * HOUR, [
      expect_(70, 'PromfileJobRunningTooLong', {}, false),
      expect_(83, 'PromfileJobRunningTooLong', on('db1:9100', 'etl'), true),
      expect_(83, 'PromfileJobRunningTooLong', on('db2:9100', 'etl'), false),
      expect_(83, 'PromfileJobRunningTooLong', {}, true), // that one only
      expect_(83, 'PromfileJobRunningTooLong', on('db2:9100', 'first'), false),
      expect_(99, 'PromfileTextfileStale', {}, false),
      expect_(102, 'PromfileTextfileStale', on('db2:9100', 'first'), true), // --stale-after 90m, then for: 10m
      expect_(102, 'PromfileTextfileStale', {}, true),
      expect_(120, 'PromfileJobMissedRun', {}, false),
      expect_(128, 'PromfileJobMissedRun', on('db1:9100', 'etl'), true),
      expect_(128, 'PromfileJobMissedRun', on('db2:9100', 'etl'), true),
      expect_(128, 'PromfileJobMissedRun', on('db2:9100', 'first'), false),
      expect_(170, 'PromfileJobFailed', {}, false),
      expect_(170, 'PromfileJobRunningTooLong', on('db2:9100', 'first'), false),
    ]);
  });

  it('missed run: quiet until next run + grace has passed, then firing; the file goes stale later', async () => {
    const { dir, snapshots } = await history(
      'missed',
      hourly,
      [0, 1, 2].map((h) => [h * HOUR + 5000, h * HOUR + 65_000, ok]),
    );
    const missed = (m: number, fires: boolean): Expectation => ({ at: 3 * 60 + m, alert: 'PromfileJobMissedRun', fires });
    await scenario(dir, await rulesFor(dir), snapshots, MIN, 5 * HOUR, [
      { at: 150, alert: 'PromfileJobMissedRun', fires: false },
      missed(5, false), // grace: a tenth of the hour
      missed(10, true),
      missed(10, true),
      { at: 190, alert: 'PromfileJobFailed', fires: false },
      { at: 190, alert: 'PromfileJobRunningTooLong', fires: false },
      { at: 240, alert: 'PromfileTextfileStale', fires: false },
      { at: 270, alert: 'PromfileTextfileStale', fires: true }, // 2 intervals + grace after the last write
    ]);
  });

  it('failure, then recovery: firing while the last run failed, quiet once one succeeds', async () => {
    const fail = ['sh', '-c', 'exit 3'];
    const { dir, snapshots } = await history('etl', hourly, [
      [5000, 65_000, ok],
      [HOUR + 5000, HOUR + 65_000, fail],
      [2 * HOUR + 5000, 2 * HOUR + 65_000, ok],
    ]);
    await scenario(dir, await rulesFor(dir), snapshots, MIN, 3 * HOUR, [
      { at: 30, alert: 'PromfileJobFailed', fires: false },
      { at: 90, alert: 'PromfileJobFailed', fires: true },
      { at: 150, alert: 'PromfileJobFailed', fires: false },
      { at: 150, alert: 'PromfileJobMissedRun', fires: false },
    ]);
  });

  it('hang: firing past 3x the median run (or --timeout), and the next run is then missed', async () => {
    const { dir, snapshots } = await history('report', hourly, [
      [5000, 30 * MIN + 5000, ok],
      [HOUR + 5000, HOUR + 30 * MIN + 5000, ok],
    ]);
    // The third run hangs: the job itself copies the file while promfile is waiting for it.
    // The job copies the file as it is while the job runs; not a *.prom name, or the directory check would see it as another textfile.
    const hung = join(dir, 'hung.snapshot');
    await run(dir, ['--job', 'report', ...hourly], ['cp', join(dir, 'report.prom'), hung], 2 * HOUR + 5000, 2 * HOUR + 6000);
    snapshots.push(await snapshot(hung, 2 * HOUR + 5000, join(dir, 'report.prom')));
    expect(snapshots.at(-1)?.series.get(seriesText('promfile_job_running', { job_name: 'report' }))).toBe(1);
    // Median of two 30-minute runs, read from the histogram: 20 minutes, so 3x is an hour.
    await scenario(dir, await rulesFor(dir), snapshots, MIN, 4 * HOUR, [
      { at: 170, alert: 'PromfileJobRunningTooLong', fires: false },
      { at: 183, alert: 'PromfileJobRunningTooLong', fires: true },
      { at: 183, alert: 'PromfileJobMissedRun', fires: false },
      { at: 190, alert: 'PromfileJobMissedRun', fires: true },
      { at: 190, alert: 'PromfileJobFailed', fires: false },
    ]);
    await scenario(dir, await rulesFor(dir, ['--timeout', '45m']), snapshots, MIN, 4 * HOUR, [
      { at: 160, alert: 'PromfileJobRunningTooLong', fires: false },
      { at: 170, alert: 'PromfileJobRunningTooLong', fires: true },
    ]);
  });

  describe('DST day (Australia/Hobart, 1970-03-08: 03:00 +11 becomes 02:00 +10)', () => {
    const nightly = ['--schedule', 'CRON_TZ=Australia/Hobart 30 2 * * *', '--grace', '5m'];
    const before = Date.parse('1970-03-06T15:30:05Z'); // 03-07 02:30 +11
    const dstDay = Date.parse('1970-03-07T15:30:05Z'); // 03-08 02:30 +11, the first pass
    const after = Date.parse('1970-03-08T16:30:05Z'); // 03-09 02:30 +10: 25 hours later
    const end = Date.parse('1970-03-08T18:00:00Z');
    const missed = (iso: string, fires: boolean): Expectation => ({ at: at(Date.parse(iso)), alert: 'PromfileJobMissedRun', fires });

    it('the run after the 25-hour day is not taken for missed', async () => {
      const { dir, snapshots } = await history(
        'nightly',
        nightly,
        [before, dstDay, after].map((t) => [t, t + MIN, ok]),
      );
      const states = snapshots.map((s) => s.series.get(seriesText('promfile_job_interval_seconds', { job_name: 'nightly' })));
      expect(states).toEqual([86_400, 90_000, 86_400]);
      await scenario(dir, await rulesFor(dir), snapshots, 15 * MIN, end, [
        missed('1970-03-08T16:15:00Z', false), // 24h45m after the last run: a 24-hour interval would be firing by now
        missed('1970-03-08T16:45:00Z', false),
        missed('1970-03-08T17:30:00Z', false),
      ]);
    });

    it('and when that run does not come, the alert fires after next run + grace', async () => {
      const { dir, snapshots } = await history(
        'nightly-missed',
        nightly,
        [before, dstDay].map((t) => [t, t + MIN, ok]),
      );
      await scenario(dir, await rulesFor(dir), snapshots, 15 * MIN, end, [
        missed('1970-03-08T16:30:00Z', false),
        missed('1970-03-08T17:00:00Z', true),
      ]);
    });
  });

  it('hostile job names: promtool accepts the rules and each job alerts under exactly its own name', async () => {
    const dir = join(root, 'hostile');
    await mkdir(dir);
    // DEL and C1 made promtool refuse the file; NEL was folded to a space, so that job never alerted.
    const names = [
      'del\u007fjob',
      'nel\u0085job',
      'csi\u009bjob',
      'ls\u2028job',
      'rlo\u202ejob',
      'tag\u{e0001}job',
      `q"u'o\\te`,
      'dot.*job',
      'nl\njob',
    ];
    const label = (name: string): string => name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const family = (metric: string, value: number): string[] => [
      `# TYPE ${metric} gauge`,
      ...names.map((name) => `${metric}{job_name="${label(name)}"} ${value}`),
    ];
    const exposition = [...family('promfile_job_last_start_timestamp_seconds', 1), ...family('promfile_job_exit_code', 3)];
    await writeFile(join(dir, 'jobs.prom'), `${exposition.join('\n')}\n`);
    // The per-job rules (--job): the names go into a regex in the YAML.
    const rules = await rulesFor(
      dir,
      names.flatMap((name) => ['--job', name]),
    );
    await writeFile(join(dir, 'rules.yml'), rules);
    expect(promtool(['check', 'rules', join(dir, 'rules.yml')])).toMatchObject({ status: 0 });
    // The test file as JSON (YAML reads JSON), with what YAML cannot hold raw escaped (astral characters it can).
    const series = (name: string): string => `promfile_job_exit_code{job_name=${JSON.stringify(name)},job="node",instance="db1:9100"}`;
    const firing = (name: string, fires: boolean) => ({
      expr: `count(ALERTS{alertname="PromfileJobFailed",alertstate="firing",job_name=${JSON.stringify(name)}})`,
      eval_time: '5m',
      exp_samples: fires ? [{ labels: '{}', value: 1 }] : [],
    });
    // "nel job" (a space) is the name YAML folding made of "nel\u0085job": it must not alert.
    const test = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [...names, 'nel job'].map((name) => ({ series: series(name), values: '3x10' })),
          promql_expr_test: [...names.map((name) => firing(name, true)), firing('nel job', false)],
        },
      ],
    };
    const yaml = JSON.stringify(test).replace(
      /[\u007f-\u009f\u2028\u2029\u202e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    await writeFile(join(dir, 'test.yml'), yaml);
    const result = promtool(['test', 'rules', join(dir, 'test.yml')]);
    expect(result.status, result.output).toBe(0);
  });
});
