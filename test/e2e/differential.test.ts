// node_exporter is the judge: every golden-valid fixture (and promfile's
// canonical rewrite of it) is exposed whole; every golden-invalid one is
// refused by promfile, and node_exporter really loses data on the ones the
// manifest says it does.
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, readExposition } from '../../src/format/parse.js';
import { seriesKey } from '../../src/format/validate.js';
import type { MetricFamily } from '../../src/format/types.js';
import { NODE_EXPORTERS, PROMTOOL } from '../helpers/binaries.js';
import { promfile, tempDir } from '../helpers/cli.js';
import { FIXTURES, fixtureNames, invalidCases, outcomeFor, readFixture } from '../helpers/fixtures.js';
import { promtoolCheck, scrapeError, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

/** series key → value, from families. */
function seriesValues(families: readonly MetricFamily[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const family of families) for (const sample of family.samples) values.set(seriesKey(sample.name, sample.labels), sample.value);
  return values;
}

function expectExposed(scrape: string, families: readonly MetricFamily[]): void {
  const exposed = seriesValues(readExposition(scrape).families);
  for (const [key, value] of seriesValues(families)) {
    expect(exposed.has(key), `series ${key.replaceAll('\u0000', ' ').replaceAll('\u0001', '=')} is exposed`).toBe(true);
    expect(Object.is(exposed.get(key), value) || exposed.get(key) === value).toBe(true);
  }
}

describe.each(NODE_EXPORTERS)(
  'node_exporter $version accepts the golden-valid corpus, as given and as promfile rewrites it',
  ({ path: binary }) => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let given: NodeExporter;
    let canonical: NodeExporter;
    const rewritten = new Map<string, string>();

    beforeAll(async () => {
      ({ dir, cleanup } = await tempDir());
      await mkdir(join(dir, 'given'));
      await mkdir(join(dir, 'rewritten'));
      for (const name of fixtureNames('valid')) {
        await copyFile(join(FIXTURES, 'valid', name), join(dir, 'given', name));
        const result = promfile(['write', '--dir', join(dir, 'rewritten'), '-f', name.replace(/\.prom$/, '')], {
          input: readFixture('valid', name),
        });
        expect(result.stderr.replace(/promfile: warning: .*\n/g, '')).toBe('');
        expect(result.status).toBe(0);
        rewritten.set(name, await readFile(join(dir, 'rewritten', name), 'utf8'));
      }
      given = await startNodeExporter(join(dir, 'given'), { binary });
      canonical = await startNodeExporter(join(dir, 'rewritten'), { binary });
    });

    afterAll(async () => {
      await given?.stop();
      await canonical?.stop();
      await cleanup?.();
    });

    it.each(['given', 'rewritten'])('exposes every series of every %s file with node_textfile_scrape_error 0', async (which) => {
      const scrape = await (which === 'given' ? given : canonical).scrape();
      expect(scrapeError(scrape)).toBe(0);
      for (const name of fixtureNames('valid')) expectExposed(scrape, parseExposition(readFixture('valid', name)));
      expect(scrape.match(/^node_textfile_mtime_seconds\{/gm)?.length).toBe(fixtureNames('valid').length);
    });

    it('rewrites each file canonically: same series and values, and stable under a second write', async () => {
      for (const name of fixtureNames('valid')) {
        const content = rewritten.get(name) as string;
        expect(seriesValues(parseExposition(content))).toEqual(seriesValues(parseExposition(readFixture('valid', name))));
        const again = promfile(['write', '--dry-run', '--dir', dir, '-f', 'x'], { input: content });
        expect(again.stdout).toBe(content);
      }
    });

    it.skipIf(!PROMTOOL)('promtool parses every rewritten file', () => {
      for (const name of fixtureNames('valid')) {
        const { status, output } = promtoolCheck(rewritten.get(name) as string);
        expect(output).not.toMatch(/error while linting/);
        expect([0, 3]).toContain(status); // 3: lint advice only (e.g. no HELP on untyped input)
      }
    });
  },
);

describe.each(NODE_EXPORTERS)(
  'the golden-invalid corpus: promfile refuses, node_exporter $version loses data',
  ({ path: binary, minor }) => {
    const cases = invalidCases();

    it.each(cases)('%s', async (name, expected) => {
      const { dir, cleanup } = await tempDir();
      try {
        // promfile side: refuse with the line and leave the existing file as it was.
        const target = join(dir, 'target.prom');
        const before = '# HELP keep_me Existing content.\n# TYPE keep_me gauge\nkeep_me 1\n';
        await writeFile(target, before);
        const result = promfile(['write', '--dir', dir, '-f', 'target'], { input: readFixture('invalid', name) });
        if (expected.write === 'refuses') {
          expect(result.status).toBe(2);
          expect(result.stderr).toMatch(new RegExp(`^promfile: <stdin>: line ${expected.line}: .+\\n$`));
          expect(await readFile(target, 'utf8')).toBe(before);
        } else {
          expect(result.status).toBe(0);
          expect((await readFile(target, 'utf8')).endsWith('\n')).toBe(true);
        }
        expect((await readdir(dir)).filter((name) => !name.endsWith('.lock'))).toEqual(['target.prom']);

        // node_exporter side, on the fixture as given.
        const fixtureDir = join(dir, 'ne');
        await mkdir(fixtureDir);
        await copyFile(join(FIXTURES, 'invalid', name), join(fixtureDir, name));
        const exporter = await startNodeExporter(fixtureDir, { binary });
        const outcome = outcomeFor(expected, minor);
        try {
          if (outcome === 'crashes') {
            await exporter.scrape().catch(() => '');
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(exporter.log()).toMatch(/panic/);
            return;
          }
          const scrape = await exporter.scrape();
          const mtimeListed = scrape.includes(`node_textfile_mtime_seconds{file="${join(fixtureDir, name)}"}`);
          const lines = readFixture('invalid', name)
            .toString('latin1')
            .split('\n')
            .filter((l) => /^[a-z_{]/i.test(l)); // 1.9 reads a "{...}" line as a sample of the metric before it
          const exposedSamples = scrape
            .split('\n')
            .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('node_') && !/^(go|process|promhttp)_/.test(l));
          if (outcome === 'rejects-file') {
            expect(scrapeError(scrape)).toBe(1);
            expect(mtimeListed).toBe(false);
            expect(exposedSamples).toEqual([]);
          } else if (outcome === 'drops-series') {
            expect(scrapeError(scrape)).toBe(0);
            expect(exposedSamples.length).toBeLessThan(lines.length);
            expect(exporter.log()).toMatch(/collected before|collides/);
          } else {
            expect(scrapeError(scrape)).toBe(0);
            expect(mtimeListed).toBe(true);
            expect(exposedSamples.length).toBeGreaterThan(0);
          }
        } finally {
          await exporter.stop();
        }
      } finally {
        await cleanup();
      }
    });
  },
);
