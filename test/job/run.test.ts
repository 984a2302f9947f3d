// State transitions of `promfile run`, as pure functions of the previous file.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { parseExposition } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import {
  JOB_METRICS,
  classifyExit,
  endFamilies,
  mergeJobMetrics,
  parseJobMetrics,
  skippedFamilies,
  startFamilies,
  type JobOutcome,
} from '../../src/job/metrics.js';
import { runJob, runLockPathFor } from '../../src/job/run.js';
import { assertWritable } from '../../src/format/validate.js';
import type { Labels, MetricFamily } from '../../src/format/types.js';
import { tempDir } from '../helpers/cli.js';
import { everySchedule } from '../../src/job/schedule.js';
import { acquireLock } from '../../src/textfile/lock.js';

const backup: Labels = { job_name: 'backup' };
const value = (families: readonly MetricFamily[], name: string, labels: Labels = backup): number | undefined =>
  getSeries(families, name, labels)?.value;
const outcome = (result: JobOutcome['result'], status: number, startMs = 1_000_000, endMs = 1_002_500): JobOutcome => ({
  result,
  status,
  startMs,
  endMs,
});

/** Render and parse again: what node_exporter would read back. */
function roundTrip(families: readonly MetricFamily[]): MetricFamily[] {
  assertWritable(families);
  return parseExposition(renderExposition(families));
}

describe('classifyExit', () => {
  it('maps exits the way a shell and timeout(1) report them', () => {
    expect(classifyExit({ code: 0, signal: null, timedOut: false })).toEqual({ result: 'success', status: 0 });
    expect(classifyExit({ code: 3, signal: null, timedOut: false })).toEqual({ result: 'failure', status: 3 });
    expect(classifyExit({ code: null, signal: 'SIGKILL', timedOut: false })).toEqual({ result: 'signal', status: 137 });
    expect(classifyExit({ code: null, signal: 'SIGUSR1', timedOut: false })).toEqual({ result: 'signal', status: 138 });
    expect(classifyExit({ code: null, signal: 'SIGTERM', timedOut: true })).toEqual({ result: 'timeout', status: 124 });
    // A job that catches the TERM of a timeout and exits 0 still timed out.
    expect(classifyExit({ code: 0, signal: null, timedOut: true })).toEqual({ result: 'timeout', status: 124 });
    expect(classifyExit({ code: null, signal: null, spawnError: 'ENOENT', timedOut: false })).toEqual({ result: 'failure', status: 127 });
    expect(classifyExit({ code: null, signal: null, spawnError: 'EACCES', timedOut: false })).toEqual({ result: 'failure', status: 126 });
  });
});

describe('startFamilies', () => {
  it('records the start and running 1 on a fresh file', () => {
    const families = roundTrip(startFamilies([], backup, 1_700_000_000_250));
    expect(value(families, JOB_METRICS.lastStart.name)).toBe(1_700_000_000.25);
    expect(value(families, JOB_METRICS.running.name)).toBe(1);
    expect(value(families, JOB_METRICS.lastSuccess.name)).toBeUndefined();
  });

  it("keeps the previous run's results and other jobs' series", () => {
    const previous = endFamilies([], backup, outcome('success', 0));
    const withOther = endFamilies(previous, { job_name: 'other' }, outcome('failure', 2));
    const families = roundTrip(startFamilies(withOther, backup, 2_000_000));
    expect(value(families, JOB_METRICS.running.name)).toBe(1);
    expect(value(families, JOB_METRICS.lastStart.name)).toBe(2000);
    expect(value(families, JOB_METRICS.lastSuccess.name)).toBe(1002.5);
    expect(value(families, JOB_METRICS.exitCode.name, { job_name: 'other' })).toBe(2);
    expect(value(families, JOB_METRICS.running.name, { job_name: 'other' })).toBe(0);
  });
});

describe('endFamilies', () => {
  it('records a success with every family documented', () => {
    const families = roundTrip(endFamilies(startFamilies([], backup, 1_000_000), backup, outcome('success', 0)));
    expect(value(families, JOB_METRICS.lastEnd.name)).toBe(1002.5);
    expect(value(families, JOB_METRICS.duration.name)).toBe(2.5);
    expect(value(families, JOB_METRICS.exitCode.name)).toBe(0);
    expect(value(families, JOB_METRICS.running.name)).toBe(0);
    expect(value(families, JOB_METRICS.lastSuccess.name)).toBe(1002.5);
    expect(value(families, JOB_METRICS.runs.name, { ...backup, result: 'success' })).toBe(1);
    for (const result of ['failure', 'timeout', 'signal']) expect(value(families, JOB_METRICS.runs.name, { ...backup, result })).toBe(0);
    for (const family of families) expect(family.help, family.name).toMatch(/\w/);
    expect(families.find((f) => f.name === JOB_METRICS.runs.name)?.type).toBe('counter');
  });

  it('carries the last success over unchanged when a run fails', () => {
    const afterSuccess = endFamilies([], backup, outcome('success', 0, 1_000_000, 1_001_000));
    const afterFailure = roundTrip(endFamilies(afterSuccess, backup, outcome('failure', 1, 5_000_000, 5_004_000)));
    expect(value(afterFailure, JOB_METRICS.lastSuccess.name)).toBe(1001);
    expect(value(afterFailure, JOB_METRICS.lastEnd.name)).toBe(5004);
    expect(value(afterFailure, JOB_METRICS.exitCode.name)).toBe(1);
    const afterTimeout = roundTrip(endFamilies(afterFailure, backup, outcome('timeout', 124, 6_000_000, 6_010_000)));
    expect(value(afterTimeout, JOB_METRICS.lastSuccess.name)).toBe(1001);
    expect(value(afterTimeout, JOB_METRICS.exitCode.name)).toBe(124);
  });

  it('writes 0 as the last success of a job that never succeeded, so the staleness alert fires', () => {
    const families = endFamilies([], backup, outcome('signal', 143));
    expect(value(families, JOB_METRICS.lastSuccess.name)).toBe(0);
  });

  it('counts runs by result across runs', () => {
    const results: Array<[JobOutcome['result'], number]> = [
      ['success', 0],
      ['failure', 1],
      ['success', 0],
      ['timeout', 124],
      ['signal', 137],
      ['success', 0],
    ];
    let families: MetricFamily[] = [];
    for (const [result, status] of results)
      families = roundTrip(endFamilies(startFamilies(families, backup, 1000), backup, outcome(result, status)));
    const count = (result: string): number | undefined => value(families, JOB_METRICS.runs.name, { ...backup, result });
    expect([count('success'), count('failure'), count('timeout'), count('signal')]).toEqual([3, 1, 1, 1]);
  });

  it('keeps -l labels on every series; a changed label set replaces the old series, other jobs stay', () => {
    const labels = { job_name: 'apt', origin: 'security' };
    const old = endFamilies([], { job_name: 'apt', origin: 'updates' }, outcome('failure', 100));
    const otherJob = endFamilies(old, { job_name: 'backup' }, outcome('failure', 3));
    const started = roundTrip(startFamilies(otherJob, labels, 0));
    expect(value(started, JOB_METRICS.exitCode.name, { job_name: 'apt', origin: 'updates' })).toBeUndefined();
    const families = roundTrip(endFamilies(started, labels, outcome('success', 0)));
    expect(value(families, JOB_METRICS.exitCode.name, labels)).toBe(0);
    expect(value(families, JOB_METRICS.exitCode.name, { job_name: 'apt', origin: 'updates' })).toBeUndefined();
    expect(value(families, JOB_METRICS.lastSuccess.name, { job_name: 'apt', origin: 'updates' })).toBeUndefined();
    expect(value(families, JOB_METRICS.exitCode.name, { job_name: 'backup' })).toBe(3);
    expect(value(families, JOB_METRICS.runs.name, { ...labels, result: 'success' })).toBe(1);
  });

  it("drops the job's own series of an earlier run that this run did not write", () => {
    const earlier = mergeJobMetrics(
      endFamilies([], backup, outcome('success', 0)),
      parseJobMetrics('files_copied 5\nfiles_failed 1\n', backup),
    );
    expect('families' in earlier).toBe(true);
    const previous = 'families' in earlier ? earlier.families : [];
    const now = mergeJobMetrics(endFamilies(previous, backup, outcome('success', 0)), parseJobMetrics('files_copied 7\n', backup));
    const families = 'families' in now ? now.families : [];
    expect(getSeries(families, 'files_copied', backup)?.value).toBe(7);
    expect(getSeries(families, 'files_failed', backup)).toBeUndefined();
  });

  it('initialises skipped_total only with --no-overlap, and a skip moves nothing else', () => {
    expect(value(endFamilies([], backup, outcome('success', 0)), JOB_METRICS.skipped.name)).toBeUndefined();
    const ran = endFamilies([], backup, outcome('success', 0), { noOverlap: true });
    expect(value(ran, JOB_METRICS.skipped.name)).toBe(0);
    const skipped = roundTrip(skippedFamilies(skippedFamilies(ran, backup), backup));
    expect(value(skipped, JOB_METRICS.skipped.name)).toBe(2);
    expect(skipped.filter((f) => f.name !== JOB_METRICS.skipped.name)).toEqual(
      roundTrip(ran).filter((f) => f.name !== JOB_METRICS.skipped.name),
    );
  });
});

describe('job metrics ($PROMFILE_METRICS)', () => {
  it("adds the run's labels to the job's series and a HELP where it has none", () => {
    const families = parseJobMetrics('records_processed 42\nbackup_bytes{volume="home"} 1e9\n', { job_name: 'backup' });
    expect(getSeries(families, 'records_processed', { job_name: 'backup' })?.value).toBe(42);
    expect(getSeries(families, 'backup_bytes', { job_name: 'backup', volume: 'home' })?.value).toBe(1e9);
    for (const family of families) expect(family.help).toMatch(/\w/);
  });

  it("refuses the job_name, job and instance labels in the job's own metrics", () => {
    for (const label of ['job_name', 'job', 'instance'])
      expect(() => parseJobMetrics(`x{${label}="custom"} 1\n`, backup)).toThrow(new RegExp(`may not set the "${label}" label`));
    expect(getSeries(parseJobMetrics('x{volume="home"} 1\n', backup), 'x', { ...backup, volume: 'home' })?.value).toBe(1);
  });

  it('refuses invalid text and promfile_job_* names', () => {
    expect(() => parseJobMetrics('bad metric\n', backup)).toThrow(/PROMFILE_METRICS.*line 1/);
    expect(() => parseJobMetrics('promfile_job_running 0\n', backup)).toThrow(/promfile_job_running/);
    expect(() => parseJobMetrics('a 1\na 2\n', backup)).toThrow(/PROMFILE_METRICS/);
  });

  it('drops timestamps with a notice instead of losing the file', () => {
    const notices: string[] = [];
    const families = parseJobMetrics('a 1 1700000000000\n', backup, (notice) => notices.push(notice.rule));
    expect(getSeries(families, 'a', backup)?.value).toBe(1);
    expect(notices.length).toBeGreaterThan(0);
  });

  it('reports a type conflict with the file instead of throwing', () => {
    const status = endFamilies(
      [{ name: 'records', help: 'h', type: 'gauge', samples: [{ name: 'records', labels: {}, value: 1 }] }],
      backup,
      outcome('success', 0),
    );
    const merged = mergeJobMetrics(status, parseJobMetrics('# TYPE records counter\nrecords 5\n', backup));
    expect(merged).toEqual({ error: expect.stringMatching(/records/) });
    const ok = mergeJobMetrics(status, parseJobMetrics('# TYPE records gauge\nrecords 5\n', backup));
    expect('families' in ok && getSeries(ok.families, 'records', backup)?.value).toBe(5);
  });
});

describe('runLockPathFor', () => {
  it('is a dotfile beside the target that node_exporter does not read', () => {
    expect(runLockPathFor('/var/lib/x/backup.prom')).toBe('/var/lib/x/.backup.prom.run.lock');
  });
});

describe('runJob', () => {
  it('forwards a signal that arrives before the job is started', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const warnings: string[] = [];
      const path = join(dir, 'early.prom');
      const run = await runJob({
        path,
        labels: { job_name: 'early' },
        command: 'sleep',
        args: ['30'],
        env: { PATH: '/usr/bin:/bin' },
        now: () => Date.now(),
        onWarning: (message) => warnings.push(message),
        // The subscriber fires at once: the signal comes in during the start write.
        signals: (forward) => {
          forward('SIGTERM');
          return () => undefined;
        },
      });
      expect(run).toMatchObject({ skipped: false, outcome: { result: 'signal', status: 143 } });
      expect(warnings).toEqual([]);
      const families = parseExposition(await readFile(path));
      expect(getSeries(families, JOB_METRICS.runs.name, { job_name: 'early', result: 'signal' })?.value).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('keeps the status metrics when the existing file cannot be merged with the job metrics', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'typed.prom');
      // Written by someone else (no job_name label), so not the job's own series of an earlier run.
      await writeFile(path, '# HELP records h\n# TYPE records gauge\nrecords{source="set"} 1\n');
      const warnings: string[] = [];
      const run = await runJob({
        path,
        labels: { job_name: 'typed' },
        command: 'sh',
        args: ['-c', 'printf "# TYPE records counter\\nrecords 7\\n" > "$PROMFILE_METRICS"'],
        env: { PATH: '/usr/bin:/bin' },
        now: () => Date.now(),
        onWarning: (message) => warnings.push(message),
      });
      expect(run).toMatchObject({ skipped: false, outcome: { result: 'success', status: 0 } });
      expect(warnings).toEqual([expect.stringMatching(/own metrics were dropped.*records/)]);
      const families = parseExposition(await readFile(path));
      expect(getSeries(families, 'records', { source: 'set' })?.value).toBe(1);
      expect(getSeries(families, JOB_METRICS.exitCode.name, { job_name: 'typed' })?.value).toBe(0);
    } finally {
      await cleanup();
    }
  });
});

describe('a run skipped by --no-overlap', () => {
  it('records the next run as a run would, so the missed-run alert does not go pending while a long run goes on', async () => {
    const { dir, cleanup } = await tempDir();
    const path = join(dir, 'long.prom');
    const labels = { job_name: 'long' };
    const HOUR = 3_600_000;
    const t0 = Date.UTC(2026, 0, 1);
    const every = { schedule: everySchedule(HOUR, '1h'), graceMs: 60_000 };
    const options = { path, labels, command: 'true', args: [], env: { PATH: '/usr/bin:/bin' }, noOverlap: true, schedule: every };
    try {
      // The long run (started at t0) holds the run lock; the runs due at t0+1h and t0+2h are skipped.
      expect(await runJob({ ...options, now: () => t0, onWarning: () => undefined })).toMatchObject({ skipped: false });
      const held = await acquireLock(runLockPathFor(path), { timeoutMs: 0 });
      try {
        for (const hours of [1, 2]) {
          const warnings: string[] = [];
          const run = await runJob({ ...options, now: () => t0 + hours * HOUR + 5000, onWarning: (message) => warnings.push(message) });
          expect(run.skipped).toBe(true);
          expect(warnings).toEqual([]);
          const families = parseExposition(await readFile(path));
          expect(value(families, JOB_METRICS.nextRun.name, labels)).toBe((t0 + (hours + 1) * HOUR + 5000) / 1000);
          expect(value(families, JOB_METRICS.interval.name, labels)).toBe(3600);
          expect(value(families, JOB_METRICS.grace.name, labels)).toBe(60);
          expect(value(families, JOB_METRICS.skipped.name, labels)).toBe(hours);
          // The skipped run did not start: the last start is still the long run's.
          expect(value(families, JOB_METRICS.lastStart.name, labels)).toBe(t0 / 1000);
        }
      } finally {
        await held.release();
      }
    } finally {
      await cleanup();
    }
  });
});

describe('schedule and duration history', () => {
  /** A sample of the duration histogram (getSeries looks families up by their own name). */
  const histogram = (families: readonly MetricFamily[], suffix: string, labels: Labels = backup): number | undefined => {
    const family = families.find((f) => f.name === JOB_METRICS.runDuration.name);
    const name = `${JOB_METRICS.runDuration.name}${suffix}`;
    return getSeries(family ? [{ ...family, name }] : [], name, labels)?.value;
  };
  const schedule = { nextMs: 90_000_000, intervalMs: 86_400_000, graceMs: 8_640_000 };

  it('writes next run, interval and grace at the start, and keeps them through the end', () => {
    const started = roundTrip(startFamilies([], backup, 3_600_000, { schedule }));
    expect(value(started, JOB_METRICS.nextRun.name)).toBe(90_000);
    expect(value(started, JOB_METRICS.interval.name)).toBe(86_400);
    expect(value(started, JOB_METRICS.grace.name)).toBe(8_640);
    const ended = roundTrip(endFamilies(started, backup, outcome('failure', 1)));
    expect(value(ended, JOB_METRICS.nextRun.name)).toBe(90_000);
    // A run without a schedule leaves the last one's alone.
    expect(value(roundTrip(startFamilies(ended, backup, 5_000_000)), JOB_METRICS.nextRun.name)).toBe(90_000);
  });

  it('adds each run to the duration histogram, whatever its result, under the last-duration gauge', () => {
    let families = roundTrip(endFamilies([], backup, outcome('success', 0, 0, 2_500)));
    families = roundTrip(endFamilies(families, backup, outcome('failure', 1, 0, 40_000)));
    families = roundTrip(endFamilies(families, backup, outcome('timeout', 124, 0, 100_000_000)));
    const bucket = (le: string): number | undefined => histogram(families, '_bucket', { ...backup, le });
    expect(bucket('1')).toBe(0);
    expect(bucket('5')).toBe(1);
    expect(bucket('60')).toBe(2);
    expect(bucket('86400')).toBe(2);
    expect(bucket('+Inf')).toBe(3);
    expect(histogram(families, '_sum')).toBe(100_042.5);
    expect(histogram(families, '_count')).toBe(3);
    expect(value(families, JOB_METRICS.duration.name)).toBe(100_000);
  });

  it('restarts the histogram only when the bucket layout changes', () => {
    const twice = roundTrip(endFamilies(roundTrip(endFamilies([], backup, outcome('success', 0))), backup, outcome('success', 0)));
    expect(histogram(twice, '_count')).toBe(2);
    const changed = roundTrip(endFamilies(twice, backup, outcome('success', 0), { durationBuckets: [10, 100] }));
    expect(histogram(changed, '_count')).toBe(1);
    expect(histogram(changed, '_bucket', { ...backup, le: '100' })).toBe(1);
    expect(histogram(changed, '_bucket', { ...backup, le: '1' })).toBeUndefined();
  });
});
