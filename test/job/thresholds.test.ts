// The thresholds a job's file carries for the fleet's one rules file: the
// run's --timeout as promfile_job_timeout_seconds and its --stale-after as
// promfile_job_stale_after_seconds (start, end, and a run without one), and
// rules that name no job unless --job asks.
import { describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { parseExposition } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import { assertWritable } from '../../src/format/validate.js';
import type { Labels, MetricFamily } from '../../src/format/types.js';
import { JOB_METRICS, endFamilies, skippedFamilies, startFamilies } from '../../src/job/metrics.js';
import { alertRules } from '../../src/job/rules.js';

const backup: Labels = { job_name: 'backup' };
const timeout = (families: readonly MetricFamily[], labels: Labels = backup): number | undefined =>
  getSeries(families, JOB_METRICS.timeout.name, labels)?.value;

function roundTrip(families: readonly MetricFamily[]): MetricFamily[] {
  assertWritable(families);
  return parseExposition(renderExposition(families));
}

const success = { result: 'success', status: 0, startMs: 1_000_000, endMs: 1_002_000 } as const;

describe('promfile_job_timeout_seconds', () => {
  it('is written at the start and kept through the end of a run with --timeout, under its HELP', () => {
    const started = roundTrip(startFamilies([], backup, 1_000_000, { timeoutMs: 7_200_000 }));
    expect(timeout(started)).toBe(7200);
    expect(started.find((f) => f.name === JOB_METRICS.timeout.name)).toMatchObject({ type: 'gauge', help: JOB_METRICS.timeout.help });
    const ended = roundTrip(endFamilies(started, backup, success, { timeoutMs: 7_200_000 }));
    expect(timeout(ended)).toBe(7200);
  });

  it("is this run's: a run without --timeout drops an earlier run's, at its start already", () => {
    const earlier = roundTrip(endFamilies(startFamilies([], backup, 0, { timeoutMs: 60_000 }), backup, success, { timeoutMs: 60_000 }));
    expect(timeout(earlier)).toBe(60);
    const started = roundTrip(startFamilies(earlier, backup, 2_000_000));
    expect(timeout(started)).toBeUndefined();
    expect(roundTrip(endFamilies(started, backup, success)).some((f) => f.name === JOB_METRICS.timeout.name)).toBe(false);
  });

  it("leaves other jobs' timeouts alone, and a skipped run changes none", () => {
    const other: Labels = { job_name: 'sync' };
    const both = roundTrip(startFamilies(startFamilies([], other, 0, { timeoutMs: 30_000 }), backup, 0, { timeoutMs: 90_000 }));
    const after = roundTrip(startFamilies(both, backup, 1000));
    expect([timeout(after, other), timeout(after)]).toEqual([30, undefined]);
    expect(timeout(roundTrip(skippedFamilies(both, backup)))).toBe(90);
  });
});

describe('promfile_job_stale_after_seconds', () => {
  const staleAfter = (families: readonly MetricFamily[]): number | undefined =>
    getSeries(families, JOB_METRICS.staleAfter.name, backup)?.value;

  it('is written at the start and the end of a run with --stale-after, and a later run without drops it', () => {
    const started = roundTrip(startFamilies([], backup, 1_000_000, { staleAfterMs: 8 * 86_400_000, timeoutMs: 60_000 }));
    expect([staleAfter(started), timeout(started)]).toEqual([8 * 86400, 60]);
    expect(started.find((f) => f.name === JOB_METRICS.staleAfter.name)).toMatchObject({ type: 'gauge', help: JOB_METRICS.staleAfter.help });
    const ended = roundTrip(endFamilies(started, backup, success, { staleAfterMs: 8 * 86_400_000 }));
    expect([staleAfter(ended), timeout(ended)]).toEqual([8 * 86400, undefined]);
    expect(staleAfter(roundTrip(startFamilies(ended, backup, 2_000_000, { timeoutMs: 60_000 })))).toBeUndefined();
  });
});

describe('alertRules', () => {
  const exprs = (rules: ReturnType<typeof alertRules>): string => rules.map((r) => r.expr).join('\n');

  it('names no job, file or host: the same rules for every host, thresholds from the series', () => {
    const text = exprs(alertRules());
    expect(text).not.toMatch(/job_name|file=|instance|on\(/);
    expect(text).toContain(
      `${JOB_METRICS.timeout.name} or clamp_min(3 * histogram_quantile(0.5, ${JOB_METRICS.runDuration.name}_bucket), 600)`,
    );
    expect(text).toContain(
      `(${JOB_METRICS.staleAfter.name} or 2 * ${JOB_METRICS.interval.name} + ${JOB_METRICS.grace.name} or ${JOB_METRICS.lastStart.name} * 0 + 172800)`,
    );
    expect(alertRules().map((r) => r.for)).toEqual(['1m', '1m', '1m', '10m', '5m']);
  });

  it('--job filters every job series; --for sets every for:; --timeout replaces the median default only', () => {
    const rules = alertRules({ jobs: ['b.x', 'a'], forSeconds: 0, timeoutSeconds: 5400, staleAfterSeconds: 3600 });
    for (const rule of rules.slice(0, 4)) {
      const selectors = rule.expr.match(/promfile_job_[a-z_]+(\{[^}]*\})?/g) ?? [];
      expect(selectors.length).toBeGreaterThan(0);
      for (const selector of selectors) expect(selector, rule.alert).toMatch(/\{job_name=~"a\|b\\\\\.x"\}$/);
    }
    expect(rules.map((r) => r.for)).toEqual(['0s', '0s', '0s', '0s', '0s']);
    expect(exprs(rules)).toContain('(promfile_job_timeout_seconds{job_name=~"a|b\\\\.x"} or promfile_job_last_start_timestamp_seconds');
    expect(exprs(rules)).toContain('* 0 + 5400)');
    expect(exprs(rules)).toContain('* 0 + 3600)');
    expect(alertRules({ forSeconds: 1.5 })[0]?.for).toBe('1500ms');
  });
});
