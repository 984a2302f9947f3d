// `promfile run` end to end: real commands, the built CLI, and the result
// read back through the real node_exporter.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { readExposition } from '../../src/format/parse.js';
import type { MetricFamily } from '../../src/format/types.js';
import { NODE_EXPORTERS, PROMTOOL } from '../helpers/binaries.js';
import { BIN, NODE, ROOT, promfile, tempDir, type CliResult } from '../helpers/cli.js';
import { scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'run');

describe.each(NODE_EXPORTERS)('promfile run (through node_exporter $version)', ({ path: binary }) => {
  const suite = useNodeExporter(undefined, { binary });
  let dir: string;
  let scratch: string;
  let cleanupScratch: () => Promise<void>;
  let exporter: NodeExporter;

  beforeAll(async () => {
    ({ dir, exporter } = suite);
    ({ dir: scratch, cleanup: cleanupScratch } = await tempDir('promfile-run-scratch-'));
  });

  afterAll(async () => cleanupScratch?.());

  const run = (job: string, command: string[], extra: string[] = [], input?: string): CliResult =>
    promfile(['run', '--dir', dir, '--job', job, ...extra, '--', ...command], input === undefined ? {} : { input });

  /** Scrape node_exporter, insisting it read every file cleanly. */
  async function scrape(): Promise<MetricFamily[]> {
    const text = await exporter.scrape();
    expect(scrapeError(text), exporter.log()).toBe(0);
    return readExposition(text).families;
  }

  const value = (families: readonly MetricFamily[], name: string, job: string, labels: Record<string, string> = {}): number | undefined =>
    getSeries(families, `promfile_job_${name}`, { job_name: job, ...labels })?.value;

  const runs = (families: readonly MetricFamily[], job: string, result: string): number | undefined =>
    value(families, 'runs_total', job, { result });

  /** Poll node_exporter until `check` holds (bounded: 10 s). */
  async function scrapeUntil(check: (families: MetricFamily[]) => boolean): Promise<MetricFamily[]> {
    for (let i = 0; i < 200; i++) {
      const families = await scrape();
      if (check(families)) return families;
      await sleep(50);
    }
    throw new Error('condition not reached within 10 s');
  }

  it('records a successful run; the job keeps stdin, stdout and stderr', async () => {
    const before = Date.now() / 1000;
    const result = run('ok', ['sh', '-c', 'cat; echo to-stderr >&2'], [], 'from stdin\n');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('from stdin\n');
    expect(result.stderr).toBe('to-stderr\n');
    const families = await scrape();
    expect(value(families, 'exit_code', 'ok')).toBe(0);
    expect(value(families, 'running', 'ok')).toBe(0);
    expect(runs(families, 'ok', 'success')).toBe(1);
    expect(runs(families, 'ok', 'failure')).toBe(0);
    const success = value(families, 'last_success_timestamp_seconds', 'ok') as number;
    expect(success).toBeGreaterThanOrEqual(before - 1);
    expect(success).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(value(families, 'last_end_timestamp_seconds', 'ok')).toBe(success);
    expect(value(families, 'duration_seconds', 'ok')).toBeGreaterThanOrEqual(0);
  });

  it("returns a failing job's status and carries the last success over", async () => {
    expect(run('flaky', ['true']).status).toBe(0);
    const success = value(await scrape(), 'last_success_timestamp_seconds', 'flaky');
    await sleep(20);
    expect(run('flaky', ['false']).status).toBe(1);
    expect(run('flaky', ['sh', '-c', 'exit 42']).status).toBe(42);
    const families = await scrape();
    expect(value(families, 'last_success_timestamp_seconds', 'flaky')).toBe(success);
    expect(value(families, 'last_end_timestamp_seconds', 'flaky')).toBeGreaterThan(success as number);
    expect(value(families, 'exit_code', 'flaky')).toBe(42);
    expect(runs(families, 'flaky', 'success')).toBe(1);
    expect(runs(families, 'flaky', 'failure')).toBe(2);
  });

  it('shows running 1 while the job runs, and its duration afterwards', async () => {
    const child = spawn(NODE, [BIN, 'run', '--dir', dir, '--job', 'slow', '--', 'sleep', '1.5'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const during = await scrapeUntil((families) => value(families, 'running', 'slow') === 1);
    expect(value(during, 'last_start_timestamp_seconds', 'slow')).toBeGreaterThan(0);
    expect(await exited).toBe(0);
    const after = await scrape();
    expect(value(after, 'running', 'slow')).toBe(0);
    expect(value(after, 'duration_seconds', 'slow')).toBeGreaterThanOrEqual(1.5);
    expect(value(after, 'duration_seconds', 'slow')).toBeLessThan(10);
  });

  it('records a job killed by a signal as 128+N', async () => {
    const result = run('killed', ['sh', '-c', 'kill -USR1 $$']);
    expect(result.status).toBe(138);
    const families = await scrape();
    expect(value(families, 'exit_code', 'killed')).toBe(138);
    expect(runs(families, 'killed', 'signal')).toBe(1);
    expect(value(families, 'last_success_timestamp_seconds', 'killed')).toBe(0);
  });

  it('times out with SIGTERM and exit status 124', async () => {
    const started = Date.now();
    const result = run('late', ['sleep', '10'], ['--timeout', '300ms']);
    expect(result.status).toBe(124);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.stderr).toMatch(/^promfile: job late timed out after 300ms$/m);
    const families = await scrape();
    expect(runs(families, 'late', 'timeout')).toBe(1);
    expect(value(families, 'exit_code', 'late')).toBe(124);
    expect(value(families, 'duration_seconds', 'late')).toBeGreaterThanOrEqual(0.3);
  });

  it('sends SIGKILL after --kill-after to a job that ignores SIGTERM', async () => {
    const marker = join(scratch, 'got-term');
    const script = `process.on('SIGTERM', () => require('fs').writeFileSync(${JSON.stringify(marker)}, 'TERM')); setInterval(() => {}, 1000);`;
    const started = Date.now();
    const result = run('stubborn', [process.execPath, '-e', script], ['--timeout', '1s', '--kill-after', '500ms']);
    const elapsed = Date.now() - started;
    expect(result.status).toBe(124);
    expect(await readFile(marker, 'utf8')).toBe('TERM');
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(8000);
    expect(runs(await scrape(), 'stubborn', 'timeout')).toBe(1);
  });

  it('exits 127 for a command that is not found and 126 for one that is not executable', async () => {
    const missing = run('missing', [join(scratch, 'no-such-command')]);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/^promfile: cannot run .*no-such-command: command not found$/m);
    const script = join(scratch, 'not-executable.sh');
    await writeFile(script, '#!/bin/sh\nexit 0\n');
    await chmod(script, 0o644);
    const denied = run('denied', [script]);
    expect(denied.status).toBe(126);
    expect(denied.stderr).toMatch(/permission denied/);
    const families = await scrape();
    expect(value(families, 'exit_code', 'missing')).toBe(127);
    expect(runs(families, 'missing', 'failure')).toBe(1);
    expect(value(families, 'exit_code', 'denied')).toBe(126);
    expect(runs(families, 'denied', 'failure')).toBe(1);
  });

  it('forwards SIGTERM to the job and still records the end', async () => {
    const child = spawn(NODE, [BIN, 'run', '--dir', dir, '--job', 'term', '--', 'sleep', '30'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    await scrapeUntil((families) => value(families, 'running', 'term') === 1);
    const sent = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 143, signal: null });
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(stderr).toBe('');
    const families = await scrape();
    expect(value(families, 'running', 'term')).toBe(0);
    expect(value(families, 'exit_code', 'term')).toBe(143);
    expect(runs(families, 'term', 'signal')).toBe(1);
  });

  it("merges the job's own metrics from $PROMFILE_METRICS and removes the scratch file", async () => {
    const result = run(
      'reporter',
      [
        'sh',
        '-c',
        'echo "$PROMFILE_METRICS"; printf "# HELP records_processed Records.\\n# TYPE records_processed gauge\\nrecords_processed 42\\n" > "$PROMFILE_METRICS"',
      ],
      ['-l', 'site=eu'],
    );
    expect(result.status).toBe(0);
    const scratchFile = result.stdout.trim();
    expect(scratchFile).toMatch(/metrics\.prom$/);
    expect(existsSync(dirname(scratchFile))).toBe(false);
    const families = await scrape();
    expect(getSeries(families, 'records_processed', { job_name: 'reporter', site: 'eu' })?.value).toBe(42);
    expect(value(families, 'exit_code', 'reporter', { site: 'eu' })).toBe(0);
  });

  it("drops invalid job metrics with a warning and still records the job's status", async () => {
    const result = run('sloppy', ['sh', '-c', 'echo "records processed" > "$PROMFILE_METRICS"; exit 5']);
    expect(result.status).toBe(5);
    expect(result.stderr).toMatch(/^promfile: warning: the job's own metrics were dropped: \$PROMFILE_METRICS: line 1: /m);
    const families = await scrape();
    expect(value(families, 'exit_code', 'sloppy')).toBe(5);
    expect(runs(families, 'sloppy', 'failure')).toBe(1);
    expect(families.some((family) => family.name === 'records')).toBe(false);
  });

  it('--no-overlap skips a run while the previous one is going, counting only the skip', async () => {
    // The job runs until told to stop (bounded to 30 s), so a slow start of the second run cannot outlast it.
    const stop = join(scratch, 'stop-single');
    const job = `i=0; while [ ! -e '${stop}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`;
    const child = spawn(NODE, [BIN, 'run', '--dir', dir, '--job', 'single', '--no-overlap', '--', 'sh', '-c', job], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const before = await scrapeUntil((families) => value(families, 'running', 'single') === 1);
    const marker = join(scratch, 'second-run');
    const second = run('single', ['touch', marker], ['--no-overlap']);
    expect(second.status).toBe(75);
    expect(second.stderr).toMatch(
      /^promfile: job single is still running, this run is skipped \(--no-overlap\): lock .*\.single\.prom\.run\.lock is held/m,
    );
    expect(existsSync(marker)).toBe(false);
    const skipped = await scrape();
    expect(value(skipped, 'skipped_total', 'single')).toBe(1);
    expect(value(skipped, 'last_start_timestamp_seconds', 'single')).toBe(value(before, 'last_start_timestamp_seconds', 'single'));
    expect(value(skipped, 'running', 'single')).toBe(1);
    writeFileSync(stop, '');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, '.single.prom.run.lock'))).toBe(false);
    expect(run('single', ['touch', marker], ['--no-overlap']).status).toBe(0);
    expect(existsSync(marker)).toBe(true);
    const after = await scrape();
    expect(runs(after, 'single', 'success')).toBe(2);
    expect(value(after, 'skipped_total', 'single')).toBe(1);
  });

  it('runs the job and returns its status when the metrics cannot be written', async () => {
    const result = promfile(['run', '--dir', join(scratch, 'missing-dir'), '--job', 'nowhere', '--', 'sh', '-c', 'echo ran; exit 3']);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe('ran\n');
    expect(result.stderr).toMatch(
      /^promfile: warning: cannot record the start of the job in .*nowhere\.prom: textfile directory .* does not exist/m,
    );
    expect(result.stderr).toMatch(/^promfile: warning: cannot record the end of the job in /m);
    // --no-overlap cannot promise anything without its lock: the job is not run.
    const guarded = promfile([
      'run',
      '--dir',
      join(scratch, 'missing-dir'),
      '--job',
      'nowhere',
      '--no-overlap',
      '--',
      'sh',
      '-c',
      'echo ran',
    ]);
    expect(guarded.status).toBe(1);
    expect(guarded.stdout).toBe('');
    expect(guarded.stderr).toMatch(/^promfile: --no-overlap keeps its lock in the textfile directory, so the job was not run: /m);
  });

  it('writes --file and --mkdir targets, and refuses the job and instance labels without running the job', async () => {
    expect(promfile(['run', '--dir', join(scratch, 'made'), '--mkdir', '--job', 'made', '-f', 'other', '--', 'true']).status).toBe(0);
    expect(existsSync(join(scratch, 'made', 'other.prom'))).toBe(true);
    const marker = join(scratch, 'refused');
    for (const label of ['job=x', 'instance=y']) {
      const result = run('labelled', ['touch', marker], ['-l', label]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^promfile: -l (job|instance)=\.\.\.: label "(job|instance)" is not allowed/m);
    }
    expect(run('../evil', ['touch', marker]).status).toBe(2);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'labelled.prom'))).toBe(false);
  });

  describe.skipIf(!PROMTOOL)('the alert rules in docs/cron-jobs.md', () => {
    it('pass promtool check rules and promtool test rules', () => {
      const check = spawnSync(PROMTOOL as string, ['check', 'rules', join(FIXTURES, 'alerts.yml')], { encoding: 'utf8' });
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
      expect(check.stdout).toMatch(/SUCCESS: 2 rules found/);
      const test = spawnSync(PROMTOOL as string, ['test', 'rules', join(FIXTURES, 'alerts.test.yml')], { encoding: 'utf8' });
      expect(test.status, `${test.stdout}${test.stderr}`).toBe(0);
    });

    it('use metric names that promfile run really writes', async () => {
      const rules = await readFile(join(FIXTURES, 'alerts.yml'), 'utf8');
      const names = new Set(rules.match(/promfile_job_\w+/g));
      expect(names.size).toBeGreaterThanOrEqual(3);
      expect(run('alerted', ['true']).status).toBe(0);
      const families = await scrape();
      for (const name of names) expect(getSeries(families, name, { job_name: 'alerted' }), name).toBeDefined();
    });
  });
});
