// Series node_exporter chokes on (issue 21, item 13): its checks of a series
// grow with the square of its labels, so one series of 10,000 labels took
// longer than Prometheus' scrape timeout. Refused at write time, the limit
// named; the largest series promfile accepts is scraped at once.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_LABELS_PER_SERIES, MAX_SERIES_LABEL_CHARS } from '../../src/format/validate.js';
import { promfile } from '../helpers/cli.js';
import { samplesOf, scrapeError, useNodeExporter } from '../helpers/node-exporter.js';

const labels = (count: number): string => Array.from({ length: count }, (_, i) => `l${i}="v"`).join(',');

describe('series that would make a scrape slow', () => {
  const suite = useNodeExporter('promfile-slow-series-');

  it(`set, write and check refuse a series of ${MAX_LABELS_PER_SERIES + 1} labels, naming the limit`, async () => {
    const series = `wide{${labels(MAX_LABELS_PER_SERIES + 1)}}`;
    const set = promfile(['set', '--dir', suite.dir, '-f', 'wide', series, '1']);
    const written = promfile(['write', '--dir', suite.dir, '-f', 'wide'], { input: `${series} 1\n` });
    for (const result of [set, written]) {
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`has ${MAX_LABELS_PER_SERIES + 1} labels.*at most ${MAX_LABELS_PER_SERIES}`));
    }
    expect(existsSync(join(suite.dir, 'wide.prom'))).toBe(false);
    await mkdir(join(suite.dir, 'elsewhere')); // not read by node_exporter
    const file = join(suite.dir, 'elsewhere', 'wide.prom');
    await writeFile(file, `${series} 1\n`);
    const checked = promfile(['check', '--file-path', file]);
    expect(checked.status).not.toBe(0);
    expect(checked.stdout + checked.stderr).toMatch(/at most 128/);
  });

  it('a label set longer than 64 KiB is refused by the streaming write too', () => {
    const value = 'x'.repeat(MAX_SERIES_LABEL_CHARS);
    const result = promfile(['write', '--dir', suite.dir, '-f', 'long'], { input: `long{a="${value}"} 1\n` });
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/characters of labels; promfile takes at most 65536/);
    expect(existsSync(join(suite.dir, 'long.prom'))).toBe(false);
  });

  it(`the widest series accepted (${MAX_LABELS_PER_SERIES} labels) is written and scraped`, async () => {
    const result = promfile(['set', '--dir', suite.dir, '-f', 'widest', `widest{${labels(MAX_LABELS_PER_SERIES)}}`, '1']);
    expect(result.status, result.stderr).toBe(0);
    const scrape = await suite.exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'widest')).toHaveLength(1);
  });
});
