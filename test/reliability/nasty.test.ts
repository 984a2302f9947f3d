// A corpus of nasty inputs fed to `promfile write`: huge lines, 10 MB label
// values, NUL, CR-LF, BOM, invalid UTF-8, 100k families and more. Each is
// either written and then accepted by the real node_exporter, or refused
// with exit 2 and one clear line on stderr, the old file byte-for-byte
// intact and nothing left beside it. Never a crash (exit 70).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { promfile } from '../helpers/cli.js';
import { samplesOf, scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const MB = 1024 * 1024;
const OLD = '# HELP nasty_old Written before the nasty input.\n# TYPE nasty_old gauge\nnasty_old 1\n';

interface Case {
  name: string;
  input: () => Buffer | string;
  args?: string[];
  /** Accepted: these samples must be exposed by node_exporter. Refused: stderr must match. */
  expect: { exposed: Array<[string, number]> } | { refused: RegExp };
}

/** Deterministic pseudo-random bytes (no Math.random: a failure must reproduce). */
function noise(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const cases: Case[] = [
  // A series longer than 64 KiB of labels, or of more than 128 labels, is refused: it makes node_exporter's scrape slow.
  {
    name: '10 MB label value',
    input: () => `nasty_big_label{v="${'x'.repeat(10 * MB)}"} 1\n`,
    expect: { refused: /^promfile: <stdin>: line 1: .*characters of labels; promfile takes at most 65536/ },
  },
  {
    name: '10 MB label value made of escapes',
    input: () => `nasty_escapes{v="${'\\\\\\"\\n'.repeat((10 * MB) / 6)}"} 2\n`,
    expect: { refused: /^promfile: <stdin>: line 1: .*characters of labels; promfile takes at most 65536/ },
  },
  {
    name: '60 KB label value',
    input: () => `nasty_big_label{v="${'x'.repeat(60_000)}"} 1\n`,
    expect: { exposed: [['nasty_big_label', 1]] },
  },
  {
    name: '20 MB comment line before a sample',
    input: () => `# ${'c'.repeat(20 * MB)}\nnasty_after_comment 3\n`,
    expect: { exposed: [['nasty_after_comment', 3]] },
  },
  {
    name: '20 MB metric name without a value',
    input: () => `${'a'.repeat(20 * MB)}\n`,
    expect: { refused: /^promfile: <stdin>: line 1: / },
  },
  { name: '1,000,000 opening braces', input: () => `m${'{'.repeat(MB)}\n`, expect: { refused: /^promfile: <stdin>: line 1: / } },
  {
    name: '1,000 labels on one series',
    input: () => `nasty_wide{${Array.from({ length: 1000 }, (_, i) => `l${i}="${i}"`).join(',')}} 4\n`,
    expect: { refused: /^promfile: <stdin>: line 1: .*has 1000 labels.*at most 128/ },
  },
  {
    name: '128 labels on one series',
    input: () => `nasty_wide{${Array.from({ length: 128 }, (_, i) => `l${i}="${i}"`).join(',')}} 4\n`,
    expect: { exposed: [['nasty_wide', 4]] },
  },
  {
    name: '100,000 families',
    input: () => Array.from({ length: 100_000 }, (_, i) => `nasty_family_${i} ${i}\n`).join(''),
    expect: {
      exposed: [
        ['nasty_family_0', 0],
        ['nasty_family_99999', 99999],
      ],
    },
  },
  // node_exporter exposes a NUL in a label value or HELP as given: written, with a warning.
  { name: 'NUL in a label value', input: () => 'nasty_nul{v="a\u0000b"} 1\n', expect: { exposed: [['nasty_nul', 1]] } },
  { name: 'NUL in a metric name', input: () => 'nasty\u0000nul 1\n', expect: { refused: /^promfile: <stdin>: line 1: / } },
  {
    name: 'NUL in HELP',
    input: () => '# HELP nasty_nul_help a\u0000b\nnasty_nul_help 1\n',
    expect: { exposed: [['nasty_nul_help', 1]] },
  },
  {
    name: 'CR-LF line endings',
    input: () => '# TYPE nasty_crlf gauge\r\nnasty_crlf 1\r\n',
    expect: { refused: /^promfile: <stdin>: line 1: .*CRLF/ },
  },
  {
    name: 'CR-LF after a value only',
    input: () => 'nasty_crlf 1\r\n',
    expect: { refused: /^promfile: <stdin>: line 1: .*carriage return/ },
  },
  { name: 'UTF-8 BOM', input: () => '\uFEFFnasty_bom 1\n', expect: { refused: /^promfile: <stdin>: line 1: .*byte-order mark/ } },
  {
    name: 'invalid UTF-8 byte on line 3',
    input: () => Buffer.concat([Buffer.from('a 1\nb 2\nc{v="'), Buffer.from([0xff, 0xfe]), Buffer.from('"} 3\n')]),
    expect: { refused: /^promfile: <stdin>: line 3: invalid UTF-8/ },
  },
  {
    name: 'overlong UTF-8 encoding of "/"',
    input: () => Buffer.concat([Buffer.from('m{v="'), Buffer.from([0xc0, 0xaf]), Buffer.from('"} 1\n')]),
    expect: { refused: /invalid UTF-8/ },
  },
  {
    name: 'UTF-8-encoded lone surrogate',
    input: () => Buffer.concat([Buffer.from('m{v="'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"} 1\n')]),
    expect: { refused: /invalid UTF-8/ },
  },
  {
    name: 'truncated UTF-8 at the end',
    input: () => Buffer.concat([Buffer.from('m{v="a"} 1\n# '), Buffer.from([0xe6, 0x97])]),
    // Invalid UTF-8 in a comment is fine for node_exporter; the missing final newline is not.
    expect: { refused: /invalid UTF-8|truncated/ },
  },
  { name: '1 MB of binary noise', input: () => noise(MB, 42), expect: { refused: /^promfile: <stdin>: line \d+: / } },
  { name: 'empty input', input: () => '', expect: { refused: /^promfile: .*input is empty/ } },
  { name: 'only blank lines', input: () => '\n\n   \n', expect: { refused: /^promfile: .*input is empty/ } },
  // Valid input with nothing to report: written, so the last run's series go.
  { name: 'only comments', input: () => '\n\n# just a comment\n   \n', expect: { exposed: [] } },
  { name: 'a timestamp', input: () => 'nasty_ts 1 1700000000000\n', expect: { refused: /^promfile: <stdin>: line 1: .*timestamp/ } },
  {
    name: 'timestamps stripped on request',
    input: () => 'nasty_ts 5 1700000000000\n',
    args: ['--strip-timestamps'],
    expect: { exposed: [['nasty_ts', 5]] },
  },
  {
    name: 'no final newline (cut off half-way?)',
    input: () => 'nasty_no_newline 6',
    expect: { refused: /^promfile: <stdin>: line 1: .*truncated/ },
  },
  {
    name: 'duplicate series',
    input: () => 'nasty_dup 1\nnasty_dup 2\n',
    expect: { refused: /^promfile: <stdin>: line 2: duplicate series/ },
  },
  {
    name: 'an OpenMetrics exemplar',
    input: () => 'nasty_ex_total 1 # {trace_id="a"} 1\n',
    expect: { refused: /^promfile: <stdin>: line 1: / },
  },
];

describe('nasty inputs to promfile write', () => {
  const suite = useNodeExporter('promfile-nasty-');
  let dir: string;
  let exporter: NodeExporter;
  beforeAll(() => ({ dir, exporter } = suite));

  for (const nasty of cases) {
    it(nasty.name, { timeout: 60_000 }, async () => {
      writeFileSync(join(dir, 'nasty.prom'), OLD);
      const result = promfile(['write', '--dir', dir, '-f', 'nasty', ...(nasty.args ?? [])], { input: nasty.input() });
      expect(result.status, result.stderr.slice(0, 500)).not.toBe(70);
      if ('refused' in nasty.expect) {
        expect(result.status, result.stderr.slice(0, 500)).toBe(2);
        expect(result.stderr.slice(0, 500)).toMatch(nasty.expect.refused);
        expect(result.stderr.split('\n'), 'one line on stderr').toHaveLength(2);
        expect(result.stderr.length).toBeLessThan(1000);
        expect(readFileSync(join(dir, 'nasty.prom'), 'utf8')).toBe(OLD);
      } else {
        expect(result.status, result.stderr.slice(0, 500)).toBe(0);
        const scrape = await exporter.scrape();
        expect(scrapeError(scrape)).toBe(0);
        for (const [name, value] of nasty.expect.exposed) {
          const lines = samplesOf(scrape, name);
          expect(lines, name).toHaveLength(1);
          expect(Number((lines[0] as string).split(' ').at(-1))).toBe(value);
        }
      }
      expect(readdirSync(dir).filter((name) => !name.endsWith('.lock'))).toEqual(['nasty.prom']);
    });
  }
});
