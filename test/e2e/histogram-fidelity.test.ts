// The file equals its exposition (issue 23, items 2 and 3). node_exporter
// completes an incomplete histogram or summary: a missing le="+Inf" bucket
// equals _count, a missing _sum or _count is 0. Where the series itself says
// that value, promfile writes it (with a warning), so every series node_exporter
// exposes is in the file with the file's value, and nothing else; where
// node_exporter makes up a 0, or drops a bucket, or splits one series in two
// and drops one, promfile refuses. Judged on the real binaries: what promfile
// writes is scraped back exactly, and what it refuses really is exposed
// otherwise than the input says.
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExposition } from '../../src/format/parse.js';
import { seriesKey } from '../../src/format/validate.js';
import type { MetricFamily } from '../../src/format/types.js';
import { NODE_EXPORTERS } from '../helpers/binaries.js';
import { promfile, tempDir } from '../helpers/cli.js';
import { scrapeError, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

/** Inputs node_exporter completes from what they say: written completed, with the warning that says what was added. */
const COMPLETED: ReadonlyArray<readonly [string, string, RegExp]> = [
  [
    'hist_no_inf',
    'hist_no_inf_bucket{le="1"} 1\nhist_no_inf_sum 2\nhist_no_inf_count 3\n',
    /hist_no_inf is incomplete: node_exporter adds the le="\+Inf" bucket equal to hist_no_inf_count \(3\); promfile writes it so/,
  ],
  [
    'hist_one_no_inf',
    'hist_one_no_inf_bucket{k="a",le="1"} 1\nhist_one_no_inf_bucket{k="a",le="+Inf"} 2\nhist_one_no_inf_sum{k="a"} 2\nhist_one_no_inf_count{k="a"} 2\n' +
      'hist_one_no_inf_bucket{k="b",le="1"} 1\nhist_one_no_inf_sum{k="b"} 5\nhist_one_no_inf_count{k="b"} 4\n',
    /hist_one_no_inf\{k="b"\} is incomplete: node_exporter adds the le="\+Inf" bucket equal to hist_one_no_inf_count \(4\)/,
  ],
  [
    'hist_zero_no_count',
    'hist_zero_no_count_bucket{le="1"} 0\nhist_zero_no_count_bucket{le="+Inf"} 0\nhist_zero_no_count_sum 0\n',
    /adds hist_zero_no_count_count 0 \(its le="\+Inf" bucket is 0\); promfile writes it so/,
  ],
  [
    'hist_inf_zero_only',
    'hist_inf_zero_only_bucket{le="+Inf"} 0\n',
    /adds hist_inf_zero_only_count 0 \(its le="\+Inf" bucket is 0\) and hist_inf_zero_only_sum 0 \(its count is 0\); promfile writes them so/,
  ],
  [
    'hist_count_zero_only',
    'hist_count_zero_only_count 0\n',
    /adds the le="\+Inf" bucket equal to hist_count_zero_only_count \(0\) and hist_count_zero_only_sum 0/,
  ],
  [
    'hist_zero_no_sum',
    'hist_zero_no_sum_bucket{le="+Inf"} 0\nhist_zero_no_sum_count 0\n',
    /adds hist_zero_no_sum_sum 0 \(its count is 0\)/,
  ],
];

const SUMMARY_COMPLETED: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['sum_zero_no_sum', 'sum_zero_no_sum{quantile="0.5"} NaN\nsum_zero_no_sum_count 0\n', /adds sum_zero_no_sum_sum 0 \(its count is 0\)/],
  ['sum_count_zero_only', 'sum_count_zero_only_count 0\n', /adds sum_count_zero_only_sum 0 \(its count is 0\)/],
];

/** Inputs node_exporter exposes otherwise than they say: refused, with the rule and the line. */
const REFUSED: ReadonlyArray<readonly [string, 'histogram' | 'summary', string, string, number]> = [
  ['hist_no_count', 'histogram', 'hist_no_count_bucket{le="+Inf"} 3\nhist_no_count_sum 2\n', 'histogram-shape', 3],
  ['hist_no_sum', 'histogram', 'hist_no_sum_bucket{le="+Inf"} 3\nhist_no_sum_count 3\n', 'histogram-shape', 3],
  ['hist_no_inf_no_count', 'histogram', 'hist_no_inf_no_count_bucket{le="1"} 1\nhist_no_inf_no_count_sum 2\n', 'histogram-shape', 3],
  ['hist_sum_only', 'histogram', 'hist_sum_only_sum 2\n', 'histogram-shape', 3],
  ['hist_count_only', 'histogram', 'hist_count_only_count 4\n', 'histogram-shape', 3],
  ['sum_quantiles_only', 'summary', 'sum_quantiles_only{quantile="0.5"} 1\n', 'summary-shape', 3],
  ['sum_no_count', 'summary', 'sum_no_count{quantile="0.5"} 1\nsum_no_count_sum 2\n', 'summary-shape', 3],
  ['sum_no_sum', 'summary', 'sum_no_sum{quantile="0.5"} 1\nsum_no_sum_count 2\n', 'summary-shape', 3],
  // Item 3: a bucket node_exporter drops, and one series it reads as two (and drops one).
  [
    'hist_le_nan',
    'histogram',
    'hist_le_nan_bucket{le="NaN"} 4\nhist_le_nan_bucket{le="+Inf"} 4\nhist_le_nan_sum 3\nhist_le_nan_count 4\n',
    'histogram-shape',
    3,
  ],
  [
    'hist_split_count',
    'histogram',
    'hist_split_count_bucket{le="+Inf"} 3\nhist_split_count_sum 3\nhist_split_count_count{x=""} 3\n',
    'duplicate-series',
    5,
  ],
  [
    'hist_split_bucket',
    'histogram',
    'hist_split_bucket_bucket{x="",le="1"} 1\nhist_split_bucket_bucket{le="+Inf"} 1\nhist_split_bucket_sum 1\nhist_split_bucket_count 1\n',
    'duplicate-series',
    4,
  ],
  ['sum_split', 'summary', 'sum_split{quantile="0.5"} 1\nsum_split_sum 3\nsum_split_count{x=""} 3\n', 'duplicate-series', 5],
  // Item 1: counts node_exporter keeps as 64-bit unsigned integers.
  [
    'hist_count_fraction',
    'histogram',
    'hist_count_fraction_bucket{le="+Inf"} 1.5\nhist_count_fraction_sum 2\nhist_count_fraction_count 1.5\n',
    'histogram-shape',
    3,
  ],
  [
    'hist_count_huge',
    'histogram',
    'hist_count_huge_bucket{le="+Inf"} 2e19\nhist_count_huge_sum 2\nhist_count_huge_count 2e19\n',
    'histogram-shape',
    3,
  ],
  [
    'sum_count_fraction',
    'summary',
    'sum_count_fraction{quantile="0.5"} 1\nsum_count_fraction_sum 2\nsum_count_fraction_count 2.5\n',
    'summary-shape',
    5,
  ],
];

function document(name: string, type: 'histogram' | 'summary', body: string): string {
  return `# HELP ${name} Fidelity case.\n# TYPE ${name} ${type}\n${body}`;
}

/** series key → value of the families named `names`. */
function seriesOf(families: readonly MetricFamily[], names: ReadonlySet<string>): Map<string, number> {
  const values = new Map<string, number>();
  for (const family of families)
    if (names.has(family.name)) for (const sample of family.samples) values.set(seriesKey(sample.name, sample.labels), sample.value);
  return values;
}

/** What one scrape exposes of the families of a file: the same keys and values, or not. */
function sameSeries(file: string, scrape: string): { file: Map<string, number>; exposed: Map<string, number> } {
  const { families } = readExposition(file);
  const names = new Set(families.map((family) => family.name));
  return { file: seriesOf(families, names), exposed: seriesOf(readExposition(scrape).families, names) };
}

const DOCUMENTS = [
  ...COMPLETED.map(([name, body, warning]) => [name, document(name, 'histogram', body), warning] as const),
  ...SUMMARY_COMPLETED.map(([name, body, warning]) => [name, document(name, 'summary', body), warning] as const),
];

/** An incomplete histogram a file already holds (written by hand, or by an earlier promfile), which `set` and `observe` rewrite. */
const OLD_FILE = document('old_lat', 'histogram', 'old_lat_bucket{k="x",le="1"} 1\nold_lat_sum{k="x"} 3\nold_lat_count{k="x"} 2\n');

describe.skipIf(NODE_EXPORTERS.length === 0)('the file equals its exposition', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  const written = new Map<string, string>();

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('promfile-fidelity-'));
    await mkdir(join(root, 'written'));
    await mkdir(join(root, 'given'));
    await mkdir(join(root, 'scratch'));
    const dir = join(root, 'written');
    for (const [name, text] of DOCUMENTS) {
      const result = promfile(['write', '--dir', dir, '-f', name], { input: text });
      expect(result.status, `${name}: ${result.stderr}`).toBe(0);
      written.set(name, await readFile(join(dir, `${name}.prom`), 'utf8'));
    }
    for (const [name, type, body] of REFUSED) await writeFile(join(root, 'given', `${name}.prom`), document(name, type, body));
    // set and observe read a file holding an incomplete histogram, and rewrite it whole.
    await writeFile(join(dir, 'by_set.prom'), OLD_FILE.replaceAll('old_lat', 'set_lat'));
    expect(promfile(['set', '--dir', dir, '-f', 'by_set', 'set_gauge', '1']).status).toBe(0);
    await writeFile(join(dir, 'by_observe.prom'), OLD_FILE.replaceAll('old_lat', 'obs_lat'));
    expect(promfile(['observe', '--dir', dir, '-f', 'by_observe', 'obs_lat{k="y"}', '0.5', '--buckets', '1']).status).toBe(0);
    for (const name of ['by_set', 'by_observe']) written.set(name, await readFile(join(dir, `${name}.prom`), 'utf8'));
  });

  afterAll(async () => cleanup?.());

  it.each(DOCUMENTS)('write completes %s, saying what it added, on the streaming and the whole-input path', (name, text, warning) => {
    const result = promfile(['write', '--dry-run', '--dir', join(root, 'scratch'), '-f', name], { input: text });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(warning);
    expect(result.stdout).toBe(written.get(name));
    // What was written is complete: check has nothing to say, and a second write changes nothing.
    expect(promfile(['check', '--file-path', join(root, 'written', `${name}.prom`)]).status).toBe(0);
    expect(promfile(['write', '--dry-run', '--dir', join(root, 'scratch'), '-f', name], { input: written.get(name) ?? '' }).stderr).toBe(
      '',
    );
  });

  it('set and observe write the histogram a file already holds completed, saying so', () => {
    for (const name of ['by_set', 'by_observe']) {
      const text = written.get(name) as string;
      expect(text, name).toMatch(/_bucket\{k="x",le="\+Inf"\} 2\n/);
      expect(promfile(['check', '--file-path', join(root, 'written', `${name}.prom`)]).status).toBe(0);
    }
  });

  it.each(REFUSED)('write refuses %s (%s), naming the line, and check reports its rule', async (name, type, body, rule, line) => {
    const text = document(name, type, body);
    const result = promfile(['write', '--dir', join(root, 'written'), '-f', name], { input: text });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^promfile: <stdin>: line ${line}: .+\\n$`));
    expect(await readdir(join(root, 'written'))).not.toContain(`${name}.prom`);
    const check = promfile(['check', '--format', 'json', '--file-path', join(root, 'given', `${name}.prom`)]);
    expect(check.status).toBe(1);
    const report = JSON.parse(check.stdout) as { findings: Array<{ severity: string; rule: string; line: number }> };
    expect(report.findings.filter((finding) => finding.severity === 'error').map((finding) => [finding.rule, finding.line])[0]).toEqual([
      rule,
      line,
    ]);
  });

  describe.each(NODE_EXPORTERS)('node_exporter $version', ({ path: binary, minor }) => {
    let dir: string;
    let exporters: { written: NodeExporter; given: NodeExporter } | undefined;

    beforeAll(async () => {
      dir = join(root, binary.replaceAll('/', '_'));
      await mkdir(join(dir, 'written'), { recursive: true });
      await mkdir(join(dir, 'given'), { recursive: true });
      for (const name of written.keys()) await copyFile(join(root, 'written', `${name}.prom`), join(dir, 'written', `${name}.prom`));
      for (const [name] of REFUSED) await copyFile(join(root, 'given', `${name}.prom`), join(dir, 'given', `${name}.prom`));
      exporters = {
        written: await startNodeExporter(join(dir, 'written'), { binary }),
        given: await startNodeExporter(join(dir, 'given'), { binary }),
      };
    });

    afterAll(async () => {
      await exporters?.written.stop();
      await exporters?.given.stop();
    });

    it('exposes exactly the series promfile wrote, with their values, and no scrape or gather error', async () => {
      const exporter = exporters?.written as NodeExporter;
      const scrape = await exporter.scrape();
      expect(scrapeError(scrape)).toBe(0);
      for (const [name, text] of written) {
        const { file, exposed } = sameSeries(text, scrape);
        expect(exposed, name).toEqual(file);
      }
      expect(exporter.log()).not.toMatch(/error gathering|collected before/);
    });

    it.each(REFUSED)('exposes %s otherwise than it says, with node_textfile_scrape_error 0', async (name) => {
      const exporter = exporters?.given as NodeExporter;
      const scrape = await exporter.scrape();
      expect(scrapeError(scrape)).toBe(0);
      const { file, exposed } = sameSeries(await readFile(join(dir, 'given', `${name}.prom`), 'utf8'), scrape);
      expect(exposed.size, name).toBeGreaterThan(0);
      expect(exposed, name).not.toEqual(file);
    });

    // The values promfile's message names for each version: 1.5 and 1.9 truncate a count and expose
    // 2^64 or more as 2^63; 1.11 exposes a histogram with such a count with all its counts 0.
    const EXPOSED_COUNTS: Readonly<Record<string, readonly number[]>> = {
      '1.5': [1, 2 ** 63, 2],
      '1.9': [1, 2 ** 63, 2],
      '1.11': [0, 0, 2],
    };
    it.skipIf(!(minor in EXPOSED_COUNTS))('exposes fractional and huge counts as the message says', async () => {
      const scrape = await (exporters?.given as NodeExporter).scrape();
      const exposed = readExposition(scrape).families.flatMap((family) => family.samples);
      const value = (name: string): number | undefined => exposed.find((sample) => sample.name === name)?.value;
      expect([value('hist_count_fraction_count'), value('hist_count_huge_count'), value('sum_count_fraction_count')]).toEqual(
        EXPOSED_COUNTS[minor],
      );
      const write = (name: string): string =>
        promfile(['write', '--dry-run', '--dir', join(root, 'scratch'), '-f', name], {
          input: REFUSED.filter((c) => c[0] === name).map(([, type, body]) => document(name, type, body))[0] ?? '',
        }).stderr;
      expect(write('hist_count_fraction')).toMatch(
        /but 1\.5: node_exporter 1\.5 and 1\.9 expose it as 1, 1\.11 every bucket and the count of the series as 0\n/,
      );
      expect(write('hist_count_huge')).toMatch(
        /but 20000000000000000000: node_exporter 1\.5 and 1\.9 expose it as 9223372036854775808, 1\.11/,
      );
      expect(write('sum_count_fraction')).toMatch(/but 2\.5: node_exporter 1\.5, 1\.9 and 1\.11 expose it as 2\n/);
    });
  });
});
