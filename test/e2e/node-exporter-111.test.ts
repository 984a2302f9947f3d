// node_exporter 1.11 (Debian unstable's 1.11.1, issue 23 item 1): each rule of
// its profile, seen on the real binary, and promfile judging by it. The cases
// about the grammar (crashes, names in comments) are the line reader's.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_VERSIONS, exportersOf, KNOWN_VERSIONS, profileForVersion, type Profile } from '../../src/format/profile.js';
import { chooseProfile } from '../../src/inspect/discover.js';
import { NODE_EXPORTERS } from '../helpers/binaries.js';
import { promfile, tempDir } from '../helpers/cli.js';
import { verdict, type Textfile } from '../helpers/differential.js';
import { samplesOf, scrapeError, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const NE111 = NODE_EXPORTERS.find((binary) => binary.minor === '1.11');
const PROFILE_111 = profileForVersion('1.11.1') as Profile;
const PROFILE_19 = profileForVersion('1.9.0') as Profile;
const PROFILE_15 = profileForVersion('1.5.0') as Profile;

/** What 1.11 did with a set of files: its scrape (undefined after a crash) and whether it panicked. */
interface Seen {
  readonly scrape: string | undefined;
  readonly panicked: boolean;
}

let scratch: { dir: string; cleanup: () => Promise<void> } | undefined;
let count = 0;

/** Start 1.11 over a fresh directory holding `files`, scrape once, stop it. */
async function seenBy111(files: Record<string, string>): Promise<Seen> {
  const dir = join((scratch as { dir: string }).dir, String(count++));
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const exporter: NodeExporter = await startNodeExporter(dir, { binary: NE111?.path });
  try {
    const scrape = await exporter.scrape().catch(() => undefined);
    await sleep(100); // its log and exit catch up with the response
    return { scrape: exporter.alive() ? scrape : undefined, panicked: /^panic: /m.test(exporter.log()) };
  } finally {
    await exporter.stop();
  }
}

function textfiles(files: Record<string, string>): Textfile[] {
  return Object.entries(files).map(([name, text]) => ({ name, bytes: Buffer.from(text) }));
}

function accepts(files: Record<string, string>, profile: Profile): boolean {
  return verdict(textfiles(files), '/textfiles', profile).accepts;
}

describe.skipIf(NE111 === undefined)('node_exporter 1.11 and its profile', () => {
  beforeAll(async () => {
    scratch = await tempDir('promfile-ne111-');
  });
  afterAll(async () => scratch?.cleanup());

  it('is a known version: --node-exporter 1.11 is accepted, and a running 1.11.x is judged by it', async () => {
    expect(KNOWN_VERSIONS).toContain('1.11');
    const result = promfile(['check', '--node-exporter', '1.11', '-'], { input: '# HELP m x\n# TYPE m gauge\nm 1\n' });
    expect(result.stderr).toContain('judging by node_exporter 1.11, from --node-exporter');
    expect(result.status).toBe(0);
    // The real binary, running over a directory: its --version read through /proc.
    const dir = join((scratch as { dir: string }).dir, 'running');
    await mkdir(dir);
    const exporter = await startNodeExporter(dir, { binary: NE111?.path });
    try {
      const chosen = chooseProfile({ dir });
      expect(chosen.profile).toEqual({ versions: ['1.11'], exporterMetrics: true });
      expect(chosen.reason).toMatch(/^node_exporter 1\.11, the version of the running node_exporter \(pid \d+: 1\.11\.\d+\)$/);
    } finally {
      await exporter.stop();
    }
  });

  it('exports the same go_*, process_* and promhttp_* families as 1.9, which the profile lists', async () => {
    const seen = await seenBy111({});
    const own = new Set((seen.scrape ?? '').match(/^(?:go|process|promhttp)_\w+/gm));
    expect(own.size).toBeGreaterThan(20);
    for (const name of own) expect(exportersOf(PROFILE_111, name), name).toEqual(['1.11']);
  });

  it('reads quoted legacy names and \\" in HELP, as 1.9 does (refused only under 1.5)', async () => {
    const files = { 'a.prom': '# HELP "q" says \\"hi\\"\n{"q"} 1\nm{"x"="1"} 2\n' };
    const seen = await seenBy111(files);
    expect(scrapeError(seen.scrape ?? '')).toBe(0);
    expect(samplesOf(seen.scrape ?? '', 'q')).toEqual(['q 1']);
    expect(seen.scrape).toContain('# HELP q says "hi"');
    expect(samplesOf(seen.scrape ?? '', 'm')).toEqual(['m{x="1"} 2']);
    expect(accepts(files, PROFILE_111)).toBe(true);
    expect(accepts(files, PROFILE_15)).toBe(false);
  });

  it('drops a family from every file after a HELP conflict (scrape error 1), and panics on a later file without HELP', async () => {
    const conflict = { 'a.prom': '# HELP c one\nc 1\n', 'b.prom': '# HELP c two\nc{x="2"} 1\n', 'c.prom': '# HELP c one\nc{x="3"} 1\n' };
    const seen = await seenBy111(conflict);
    expect(scrapeError(seen.scrape ?? '')).toBe(1);
    expect(samplesOf(seen.scrape ?? '', 'c')).toEqual(['c 1']);
    expect(accepts(conflict, PROFILE_111)).toBe(false);
    const noHelp = { ...conflict, 'c.prom': 'c{x="3"} 1\n' };
    expect((await seenBy111(noHelp)).panicked).toBe(true);
    for (const profile of [PROFILE_15, PROFILE_19, PROFILE_111, ALL_VERSIONS]) expect(accepts(noHelp, profile)).toBe(false);
  });

  it('rejects the whole file, without a panic, for a quoted name that is not a legacy name in a sample', async () => {
    for (const text of ['{"a.b"} 1\n', 'm{"a.b"="1"} 1\n']) {
      const seen = await seenBy111({ 'a.prom': `ok 1\n${text}` });
      expect(seen.panicked, text).toBe(false);
      expect(scrapeError(seen.scrape ?? ''), text).toBe(1);
      expect(samplesOf(seen.scrape ?? '', 'ok'), text).toEqual([]);
      expect(accepts({ 'a.prom': `ok 1\n${text}` }, PROFILE_111), text).toBe(false);
    }
  });

  it('judges a quoted name that is not a legacy name in HELP or TYPE only when something follows it', async () => {
    for (const [line, exposed] of [
      ['# TYPE "a.b"\n', true],
      ['# HELP "a.b"\n', true],
      ['# TYPE "a.b" \n', false],
      ['# TYPE "a.b" gauge\n', false],
      ['# HELP "a.b" text\n', false],
    ] as const) {
      const files = { 'a.prom': `ok 1\n${line}` };
      const seen = await seenBy111(files);
      expect(samplesOf(seen.scrape ?? '', 'ok'), line).toEqual(exposed ? ['ok 1'] : []);
      expect(accepts(files, PROFILE_111), line).toBe(exposed);
    }
  });

  it('panics on a sample without a name after a TYPE line, and on a gauge histogram sample of its own name: refused under every profile', async () => {
    for (const text of [
      '# TYPE g gauge\n{} 1\n',
      '# TYPE g gauge\n{x="1"} 1\n',
      '# TYPE x gauge_histogram\nx 1\n',
      '# TYPE x gaugehistogram\nx 1\n',
    ]) {
      expect((await seenBy111({ 'a.prom': text })).panicked, text).toBe(true);
      for (const profile of [PROFILE_15, PROFILE_19, PROFILE_111, ALL_VERSIONS])
        expect(accepts({ 'a.prom': text }, profile), text).toBe(false);
    }
  });

  it('exposes every count of a histogram as 0 when one is not a whole number: refused under its profile', async () => {
    const files = { 'a.prom': '# TYPE h histogram\nh_bucket{le="1"} 0.5\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n' };
    const seen = await seenBy111(files);
    expect(samplesOf(seen.scrape ?? '', 'h_bucket')).toEqual(['h_bucket{le="1"} 0', 'h_bucket{le="+Inf"} 0']);
    expect(samplesOf(seen.scrape ?? '', 'h_count')).toEqual(['h_count 0']);
    expect(accepts(files, PROFILE_111)).toBe(false);
  });

  it('reads the word gaugehistogram (1.5 and 1.9 reject the file): refused under every profile, on purpose (README)', async () => {
    const files = { 'a.prom': '# TYPE a gaugehistogram\na_gsum 1\na_gcount 2\n' };
    const seen = await seenBy111(files);
    expect(samplesOf(seen.scrape ?? '', 'a_gsum')).toEqual(['a_gsum 1']);
    expect((await seenBy111({ 'a.prom': '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 2\n' })).panicked).toBe(true);
    for (const profile of [PROFILE_15, PROFILE_19, PROFILE_111, ALL_VERSIONS]) expect(accepts(files, profile)).toBe(false);
  });

  it('panics on a gauge_histogram with _bucket, _sum or _count samples: refused under every profile', async () => {
    for (const suffix of ['_bucket{le="+Inf"} 2', '_sum 1', '_count 2']) {
      const text = `# TYPE x gauge_histogram\nx${suffix}\n`;
      expect((await seenBy111({ 'a.prom': text })).panicked, text).toBe(true);
      for (const profile of [PROFILE_15, PROFILE_19, PROFILE_111, ALL_VERSIONS])
        expect(accepts({ 'a.prom': text }, profile), text).toBe(false);
    }
  });

  it('rejects the whole file for a non-legacy quoted name in a HELP or TYPE line: refused under 1.11 and by default', async () => {
    for (const text of ['# TYPE "new\\nline" summary\nx 1\n', '# HELP "my.metric" x\nm 1\n']) {
      expect(scrapeError((await seenBy111({ 'a.prom': text })).scrape ?? ''), text).toBe(1);
      expect(accepts({ 'a.prom': text }, PROFILE_111), text).toBe(false);
      expect(accepts({ 'a.prom': text }, ALL_VERSIONS), text).toBe(false);
    }
  });

  it('panics on {"a_sum",a="1"} after another family, as 1.9 does: refused under every profile', async () => {
    const text = '# TYPE a summary\nq 0\n{"a_sum",a="1"} 0\n';
    expect((await seenBy111({ 'a.prom': text })).panicked).toBe(true);
    for (const profile of [PROFILE_15, PROFILE_19, PROFILE_111, ALL_VERSIONS]) expect(accepts({ 'a.prom': text }, profile)).toBe(false);
  });

  it('names in its messages only the versions seen to panic', () => {
    const label = promfile(['check', '--node-exporter', '1.11', '-'], { input: 'm{"a.b"="1"} 1\n' });
    // check's findings are its report, on stdout.
    expect(label.stdout).toMatch(/node_exporter 1\.9 panics/);
    expect(label.stdout).not.toMatch(/1\.11 panic/);
    const nameless = promfile(['check', '--node-exporter', '1.11', '-'], { input: '# TYPE g gauge\n{} 1\n' });
    expect(nameless.stdout).toMatch(/node_exporter 1\.9 and 1\.11 panic/);
  });
});
