// The schedule metrics and the histograms end to end: the built CLI, real
// commands and the real node_exporter reading the directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { readExposition } from '../../src/format/parse.js';
import type { Labels, MetricFamily } from '../../src/format/types.js';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { promfile, tempDir } from '../helpers/cli.js';
import { scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

describe.skipIf(!NODE_EXPORTER)('schedule metrics and histograms (through node_exporter)', () => {
  const suite = useNodeExporter();
  let dir: string;
  let exporter: NodeExporter;
  beforeAll(() => ({ dir, exporter } = suite));

  async function scrape(): Promise<{ text: string; families: MetricFamily[] }> {
    const text = await exporter.scrape();
    expect(scrapeError(text), exporter.log()).toBe(0);
    return { text, families: readExposition(text).families };
  }

  /** A histogram sample by its full name (families are keyed by the base name). */
  const sample = (families: readonly MetricFamily[], base: string, suffix: string, labels: Labels): number | undefined => {
    const family = families.find((f) => f.name === base);
    return family?.samples.find(
      (s) => s.name === `${base}${suffix}` && getSeries([{ ...family, name: s.name, samples: [s] }], s.name, labels),
    )?.value;
  };

  it('exposes next run, interval and grace of a cron schedule', async () => {
    const before = Date.now() / 1000;
    expect(promfile(['run', '--dir', dir, '--job', 'five', '--schedule', 'TZ=UTC */5 * * * *', '--', 'true']).status).toBe(0);
    const { families } = await scrape();
    const next = getSeries(families, 'promfile_job_next_run_timestamp_seconds', { job_name: 'five' })?.value as number;
    expect(next % 300).toBe(0);
    expect(next).toBeGreaterThan(before);
    expect(next).toBeLessThanOrEqual(before + 300);
    expect(getSeries(families, 'promfile_job_interval_seconds', { job_name: 'five' })?.value).toBe(300);
    expect(getSeries(families, 'promfile_job_grace_seconds', { job_name: 'five' })?.value).toBe(60);
  });

  it('a CRON_TZ zone gives the same times from the system tz files as from Node own (Intl)', async () => {
    const run = (job: string, env: Record<string, string>) =>
      promfile(['run', '--dir', dir, '--job', job, '--schedule', 'CRON_TZ=Asia/Kolkata 0 9 * * *', '--', 'true'], { env }).status;
    expect(run('kolkata', {})).toBe(0);
    expect(run('kolkata-intl', { TZDIR: `${dir}/no-zoneinfo` })).toBe(0);
    const { families } = await scrape();
    const value = (job: string, name: string) => getSeries(families, name, { job_name: job })?.value as number;
    const next = value('kolkata', 'promfile_job_next_run_timestamp_seconds');
    // 09:00 in Kolkata (+05:30) is 03:30 UTC.
    expect((next - 3.5 * 3600) % 86_400).toBe(0);
    expect(value('kolkata-intl', 'promfile_job_next_run_timestamp_seconds')).toBe(next);
    for (const job of ['kolkata', 'kolkata-intl']) {
      expect(value(job, 'promfile_job_interval_seconds')).toBe(86_400);
      expect(value(job, 'promfile_job_grace_seconds')).toBe(8_640);
    }
  });

  it('accumulates the run-duration histogram across runs, beside the last duration', async () => {
    const run = (seconds: string) =>
      promfile(['run', '--dir', dir, '--job', 'hist', '--every', '1h', '--duration-buckets', '2,60', '--', 'sleep', seconds]);
    // Bounds far apart: a busy machine can take a second to start and reap `sleep 0`.
    expect(run('0').status).toBe(0);
    expect(run('2.2').status).toBe(0);
    const { families } = await scrape();
    const base = 'promfile_job_run_duration_seconds';
    expect(sample(families, base, '_bucket', { job_name: 'hist', le: '2' })).toBe(1);
    expect(sample(families, base, '_bucket', { job_name: 'hist', le: '60' })).toBe(2);
    expect(sample(families, base, '_bucket', { job_name: 'hist', le: '+Inf' })).toBe(2);
    expect(sample(families, base, '_count', { job_name: 'hist' })).toBe(2);
    const last = getSeries(families, 'promfile_job_duration_seconds', { job_name: 'hist' })?.value as number;
    expect(last).toBeGreaterThanOrEqual(2.2);
    expect(sample(families, base, '_sum', { job_name: 'hist' })).toBeGreaterThan(last);
    // Every job's file carries the same HELP for the histogram, so node_exporter merges them.
    expect(sample(families, base, '_count', { job_name: 'five' })).toBe(1);
  });

  // (The stale-file rule no longer names files: it compares a job's series, test/e2e/fleet-rules.test.ts.)
  it('exposes what observe builds', async () => {
    for (const value of ['0.02', '0.7', '3'])
      expect(promfile(['observe', '--dir', dir, '-f', 'latency', 'probe_seconds', value, '-l', 'site=a']).status).toBe(0);
    const { families } = await scrape();
    expect(sample(families, 'probe_seconds', '_bucket', { site: 'a', le: '0.025' })).toBe(1);
    expect(sample(families, 'probe_seconds', '_bucket', { site: 'a', le: '1' })).toBe(2);
    expect(sample(families, 'probe_seconds', '_count', { site: 'a' })).toBe(3);
  });
});

describe('the packages compiled on first use (croner, prom-client)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(async () => cleanup?.());

  // Hardened hosts may set it in NODE_OPTIONS: new Function is then refused, vm is not.
  const env = { NODE_OPTIONS: '--disallow-code-generation-from-strings' };

  it('load where code generation from strings is disallowed', () => {
    const scheduled = promfile(['run', '--dir', dir, '--job', 'hardened', '--schedule', '17 3 * * *', '--', 'true'], { env });
    expect(scheduled.stderr).toBe('');
    expect(scheduled.status).toBe(0);
    expect(readFileSync(join(dir, 'hardened.prom'), 'utf8')).toContain('promfile_job_next_run_timestamp_seconds{job_name="hardened"}');
    // prom-client is loaded before the request, which then fails: the error is the network's.
    const pushed = promfile(['push', '--gateway', 'http://127.0.0.1:9', '--job', 'hardened'], { env, input: 'm 1\n' });
    expect(pushed.stderr).toContain('cannot reach the Pushgateway');
    expect(pushed.status).toBe(1);
  });
});
