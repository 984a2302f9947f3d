// `check --file-path` takes a file the fast scanner vouches for without
// parsing it into objects. It must find exactly what the strict analysis
// finds (rule, severity, message, line, in order) and count the same series,
// per node_exporter profile, on generated files and on the peer corpus.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_VERSIONS, profileForVersion, type Profile } from '../../src/format/profile.js';
import { checkFile, checkText, type Analysis } from '../../src/inspect/check.js';
import { tempDir } from '../helpers/cli.js';
import { canonicalDocument, documentText, HAVE_PEERS, nearlyValidBlock, peerFiles } from '../helpers/exposition-cases.js';

const RUNS = Number(process.env['PROMFILE_PROPERTY_RUNS'] ?? 400);
const PROFILES: readonly Profile[] = [
  ALL_VERSIONS,
  profileForVersion('1.5.0') as Profile,
  profileForVersion('1.9.0') as Profile,
  profileForVersion('1.9.0', false) as Profile,
];

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

/** What check reports of a file: findings in order, and per file its series and families. */
function summary(analysis: Analysis): unknown {
  return {
    findings: analysis.findings,
    files: analysis.files.map((file) => ({ path: file.path, accepted: file.accepted, series: file.series, families: file.families })),
  };
}

/** A file the scan took: its families are parsed only when asked for. */
const byScan = (analysis: Analysis): boolean =>
  analysis.files.some((file) => Object.getOwnPropertyDescriptor(file, 'families')?.get !== undefined);

/** check --file-path (by scan when it can) against the strict analysis of the same bytes; true when the scan decided. */
async function compare(text: string | Buffer, profile: Profile): Promise<boolean> {
  const path = join(dir, 'file.prom');
  await writeFile(path, text);
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const quick = await checkFile(path, { profile });
  expect(summary(quick)).toEqual(summary(checkText(path, bytes, profile)));
  return byScan(quick);
}

const nearlyValidDocument = fc
  .uniqueArray(nearlyValidBlock, { minLength: 1, maxLength: 3, selector: (block) => block[0] })
  .map((blocks) => `${blocks.flat().join('\n')}\n`);
/** Names node_exporter's own metrics or prefixes take, so the merge rules speak. */
const prefixed = fc
  .tuple(fc.oneof(canonicalDocument, nearlyValidDocument), fc.constantFrom('', 'node_', 'go_', 'process_', 'node_textfile_'))
  .map(([text, prefix]) => text.replace(/^(# (?:HELP|TYPE) )?([a-z])/gm, `$1${prefix}$2`));
const targetLabels = canonicalDocument.map((text) =>
  text.replace(/instance=/g, 'instance_x=').replace(/\{instance_x="1",job="j"\}/g, '{job="j"}'),
);

describe('check of one file by scan', () => {
  it('finds what the strict analysis finds, on generated files and every profile', async () => {
    let scanned = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(documentText, canonicalDocument, nearlyValidDocument, prefixed, targetLabels),
        fc.constantFrom(...PROFILES),
        async (text, profile) => void (scanned += (await compare(text, profile)) ? 1 : 0),
      ),
      { numRuns: RUNS },
    );
    expect(scanned).toBeGreaterThan(RUNS / 3);
  });

  it('finds the target label on the line it first appears, after lines that only mention it', async () => {
    const text = [
      '# HELP a Mentions job="x" and instance in its HELP.',
      '# TYPE a gauge',
      'a{x="job"} 1',
      'a{x="2",y="instance=1"} 2',
      'a{job="j",x="3"} 3',
      '# TYPE h histogram',
      'h_bucket{le="1",x="1"} 1',
      'h_bucket{le="+Inf",x="1"} 1',
      'h_sum{x="1"} 1',
      'h_count{x="1"} 1',
      'h_bucket{instance="i",le="1"} 1',
      'h_bucket{instance="i",le="+Inf"} 1',
      'h_sum{instance="i"} 1',
      'h_count{instance="i"} 1',
      '',
    ].join('\n');
    expect(await compare(text, ALL_VERSIONS)).toBe(true);
    const path = join(dir, 'file.prom');
    const { findings } = await checkFile(path);
    expect(findings.map((f) => `${f.line} ${f.rule} ${f.message.split(' collides')[0]}`)).toEqual([
      '5 target-label label "job" of "a"',
      '11 target-label label "instance" of "h"',
    ]);
  });
});

describe('target-label lines read from the bytes of a checked block', () => {
  it('tells a label from its name inside a value or in a longer name', async () => {
    const text = [
      '# TYPE a gauge',
      'a{x="{job="} 1',
      'a{x=",job=\\"",y="1"} 2',
      'a{jobs="1"} 3',
      'a{job_x="1"} 4',
      'a{x="1",job=""} 5',
      '',
    ].join('\n');
    expect(await compare(text, ALL_VERSIONS)).toBe(true);
    const { findings } = await checkFile(join(dir, 'file.prom'));
    expect(findings.map((f) => `${f.line} ${f.rule} ${f.message.split(' collides')[0]}`)).toEqual(['6 target-label label "job" of "a"']);
  });
});

describe('check of a file larger than its read chunks', () => {
  /** Families of 4,000 series (about 150 KB each), so families and lines straddle the 1 MiB reads. */
  function bigText(lastLine: (family: number) => string): string {
    const families: string[] = [];
    for (let f = 0; f < 24; f++) {
      const lines = [`# HELP big_${f} Family ${f}.`, `# TYPE big_${f} gauge`];
      for (let s = 0; s < 4000; s++) lines.push(`big_${f}{host="h-${s}",zone="z-${s % 7}"} ${s / 8}`);
      lines.push(lastLine(f));
      families.push(lines.join('\n'));
    }
    return `${families.join('\n')}\n`;
  }

  it('finds what the strict analysis finds: target labels late in families, across chunk ends', async () => {
    const text = bigText((f) => `big_${f}{${f % 3 === 0 ? 'instance' : 'host'}="last",zone="z"} 1`);
    expect(Buffer.byteLength(text)).toBeGreaterThan(3 << 20);
    expect(await compare(text, ALL_VERSIONS)).toBe(true);
    const { findings } = await checkFile(join(dir, 'file.prom'));
    expect(findings).toHaveLength(8);
    expect(findings.every((f) => f.rule === 'target-label')).toBe(true);
  });

  it('finds a repeated series, and a bad value, in families that straddle reads', async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      [`big_7{host="h-3",zone="z-3"} 2`, 'duplicate-series'],
      ['big_20 0x', 'value'],
    ];
    for (const [bad, rule] of cases) {
      const text = bigText((f) => (bad.startsWith(`big_${f}{`) || bad.startsWith(`big_${f} `) ? bad : `big_${f} 1`));
      expect(await compare(text, ALL_VERSIONS)).toBe(false);
      const { findings } = await checkFile(join(dir, 'file.prom'));
      expect(findings.map((f) => f.rule)).toContain(rule);
    }
  });
});

describe.skipIf(!HAVE_PEERS)('check of one file by scan on the peer corpus', () => {
  it('finds what the strict analysis finds, on every case and profile', async () => {
    let compared = 0;
    for (const { bytes } of peerFiles())
      for (const profile of PROFILES) {
        await compare(bytes, profile);
        compared++;
      }
    expect(compared).toBeGreaterThan(1000);
  });
});
