// Names reach root's terminal: a file name with escape sequences could hide
// text, set the title or erase lines in ls, check and gc, and in errors.
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listed, printable } from '../../src/errors.js';
import { promfile, tempDir } from '../helpers/cli.js';

/** C0, DEL, C1, line/paragraph separators, bidi overrides and other format characters, never a newline at the end. */
// eslint-disable-next-line no-control-regex -- control characters are what these tests look for
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/u;
const HOSTILE = 'x\u001b]0;owned\u0007\u001b[2K\u009b31m\u007f\u0085\u202e\u2028\u2066y';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

describe('printable', () => {
  it('escapes C0, DEL, C1 and non-printing characters, and leaves printable text alone', () => {
    expect(printable('a\u001b[2Kb')).toBe('a\\u001b[2Kb');
    expect(printable('\n\t\u007f\u0085\u009b')).toBe('\\n\\t\\u007f\\u0085\\u009b');
    expect(printable('\u2028\u2029\u202e\u2066\u200b\ufeff')).toBe('\\u2028\\u2029\\u202e\\u2066\\u200b\\ufeff');
    expect(printable('\u{e0001}')).toBe('\\udb40\\udc01');
    expect(printable('été 日本 \\ "q" 🙂')).toBe('été 日本 \\ "q" 🙂');
  });

  it('keeps JSON valid and equal: only characters inside strings change', () => {
    const value = { name: HOSTILE, list: ['\u{e0001}', '\ud800'] };
    const text = printable(JSON.stringify(value));
    expect(text).not.toMatch(RAW);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('caps lists with "and N more"', () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `f${i}.prom`);
    expect(listed(names)).toBe('f0.prom, f1.prom, f2.prom, f3.prom, f4.prom and 9995 more');
    expect(listed(['a', 'b'])).toBe('a, b');
    expect(listed(['a\u001b'])).toBe('a\\u001b');
  });
});

describe('output that carries names', () => {
  let hostile: string;
  beforeAll(async () => {
    hostile = join(dir, `${HOSTILE}.prom`);
    await writeFile(hostile, 'broken{\n');
    const old = new Date(Date.now() - 30 * 86_400_000);
    await utimes(hostile, old, old);
  });

  it.each([
    [['ls', '--dir', '.']],
    [['ls', '--dir', '.', '--format', 'json']],
    [['check', '--dir', '.', '--node-exporter', '1.9']],
    [['check', '--dir', '.', '--node-exporter', '1.9', '--format', 'json']],
    [['gc', '--dir', '.', '--older-than', '7d', '--dry-run']],
    [['set', '--dir', '.', '-f', HOSTILE, 'm', '1']],
    [['set', '--dir', '.', '-f', 'ok', `m{a="${HOSTILE}"}`, '1', '--format', 'json', '--dry-run']],
  ])('%j prints no raw control character', (args) => {
    const result = promfile(args.map((arg) => (arg === '.' ? dir : arg)));
    expect(`${result.stdout}${result.stderr}`).toMatch(/x\\u001b\]0;owned\\u0007/);
    expect(result.stdout).not.toMatch(RAW);
    expect(result.stderr).not.toMatch(RAW);
    if (args.includes('json')) expect(JSON.stringify(JSON.parse(result.stdout))).toContain(JSON.stringify(HOSTILE).slice(1, 10));
  });
});
