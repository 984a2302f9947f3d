// `promfile inc`: counters that survive across runs, safe under concurrency.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { parseExposition, readExposition } from '../../src/format/parse.js';
import type { Labels } from '../../src/format/types.js';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { promfile, promfileAsync, tempDir } from '../helpers/cli.js';
import { scrapeError, startNodeExporter } from '../helpers/node-exporter.js';

describe('promfile inc', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });

  afterAll(async () => {
    await cleanup?.();
  });

  const inc = (...args: string[]) => promfile(['inc', '--dir', dir, ...args]);
  const valueIn = async (file: string, name: string, labels: Labels = {}): Promise<number | undefined> =>
    getSeries(parseExposition(await readFile(join(dir, `${file}.prom`))), name, labels)?.value;

  it('creates the counter at AMOUNT (default 1) with TYPE counter and a HELP, then adds to it', async () => {
    expect(inc('-f', 'basic', 'jobs_done_total').status).toBe(0);
    expect(await valueIn('basic', 'jobs_done_total')).toBe(1);
    expect(inc('-f', 'basic', 'jobs_done_total', '2.5').status).toBe(0);
    expect(inc('-f', 'basic', 'jobs_done_total', '0').status).toBe(0);
    expect(await valueIn('basic', 'jobs_done_total')).toBe(3.5);
    const family = parseExposition(await readFile(join(dir, 'basic.prom'))).find((f) => f.name === 'jobs_done_total');
    expect(family?.type).toBe('counter');
    expect(family?.help).toMatch(/\w/);
  });

  it('keeps series apart by labels, given in the series or with -l, and keeps the rest of the file', async () => {
    expect(promfile(['set', '--dir', dir, '-f', 'labelled', 'pending_updates', '4']).status).toBe(0);
    expect(inc('-f', 'labelled', 'security_updates_installed_total{origin="security"}', '3').status).toBe(0);
    expect(inc('-f', 'labelled', 'security_updates_installed_total', '2', '-l', 'origin=security').status).toBe(0);
    expect(inc('-f', 'labelled', 'security_updates_installed_total', '-l', 'origin=updates').status).toBe(0);
    expect(await valueIn('labelled', 'security_updates_installed_total', { origin: 'security' })).toBe(5);
    expect(await valueIn('labelled', 'security_updates_installed_total', { origin: 'updates' })).toBe(1);
    expect(await valueIn('labelled', 'pending_updates')).toBe(4);
  });

  it('refuses a negative, non-finite or non-numeric amount and a gauge, leaving the file as it was', async () => {
    expect(inc('-f', 'strict', 'c_total', '5').status).toBe(0);
    expect(promfile(['set', '--dir', dir, '-f', 'strict', 'temperature', '20']).status).toBe(0);
    const before = await readFile(join(dir, 'strict.prom'));
    for (const amount of ['-1', 'NaN', '+Inf', 'ten', 'now']) {
      const result = inc('-f', 'strict', 'c_total', amount);
      expect(result.status, amount).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^promfile: amount "${amount.replace('+', '\\+')}": expected a finite number >= 0`));
    }
    const gauge = inc('-f', 'strict', 'temperature');
    expect(gauge.status).toBe(2);
    expect(gauge.stderr).toMatch(/^promfile: "temperature" is a gauge in the file, not a counter/);
    expect(await readFile(join(dir, 'strict.prom'))).toEqual(before);
  });

  it('loses no update under 100 concurrent incs mixed with sets of the same file', async () => {
    const incs = Array.from({ length: 100 }, () =>
      promfileAsync(['inc', '--dir', dir, '-f', 'busy', '--lock-timeout', '220s', 'events_total']),
    );
    const sets = Array.from({ length: 10 }, (_, i) =>
      promfileAsync(['set', '--dir', dir, '-f', 'busy', '--lock-timeout', '220s', `last_writer{n="${i}"}`, String(i)]),
    );
    const results = await Promise.all([...incs, ...sets]);
    expect(results.filter((result) => result.status !== 0 || result.stderr !== '')).toEqual([]);
    expect(await valueIn('busy', 'events_total')).toBe(100);
    for (let i = 0; i < 10; i++) expect(await valueIn('busy', 'last_writer', { n: String(i) })).toBe(i);
  }, 240_000); // a bound, not a goal (BENCHMARKS.md has the timing)

  it.skipIf(!NODE_EXPORTER)('is read by node_exporter as a counter', async () => {
    const exporter = await startNodeExporter(dir);
    try {
      const text = await exporter.scrape();
      expect(scrapeError(text), exporter.log()).toBe(0);
      const families = readExposition(text).families;
      expect(getSeries(families, 'events_total', {})?.value).toBe(100);
      expect(families.find((f) => f.name === 'events_total')?.type).toBe('counter');
      expect(getSeries(families, 'security_updates_installed_total', { origin: 'security' })?.value).toBe(5);
    } finally {
      await exporter.stop();
    }
  });

  it('needs a file and a valid series', () => {
    const noFile = promfile(['inc', '--dir', dir, 'x_total']);
    expect(noFile.status).toBe(2);
    expect(noFile.stderr).toMatch(/^promfile: which file\?/);
    const bad = inc('-f', 'basic', 'bad-name');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(
      'promfile: "bad-name": "-" is not allowed in a metric name (after "bad"; names are [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. bad_name)\n',
    );
  });
});
