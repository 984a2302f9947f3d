// A 600 MB input goes through `promfile write` (no V8 string-length failure,
// memory bounded by the largest family, not the input), byte for byte, with a
// histogram at the very end that the strict parser must take over late, and
// checked against the other textfiles of its directory.
// One run, on a generated temp file; timing goals live in bench/, not here.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from '../helpers/cli.js';

const FAMILIES = 1000;
const SERIES_PER_FAMILY = 8600;
const HISTOGRAM =
  '# HELP zz_latency_seconds Latency.\n# TYPE zz_latency_seconds histogram\n' +
  'zz_latency_seconds_bucket{le="0.5"} 3\nzz_latency_seconds_bucket{le="+Inf"} 5\n' +
  'zz_latency_seconds_sum 2.5\nzz_latency_seconds_count 5\n';

/**
 * Write FAMILIES gauge families, each the same lines under its own name: the
 * body is built once with a 4-digit placeholder and patched per family, so
 * 600 MB take a second or two instead of formatting 6.6 million lines.
 */
function generate(path: string): number {
  const lines: string[] = [];
  for (let s = 0; s < SERIES_PER_FAMILY; s++) {
    lines.push(
      `big_family_0000{instance="host-${String(s % 1000).padStart(4, '0')}.example.org",shard="${String(s).padStart(6, '0')}"} ${s % 977}.5\n`,
    );
  }
  const body = Buffer.from(`# HELP big_family_0000 A large family.\n# TYPE big_family_0000 gauge\n${lines.join('')}`);
  const marks: number[] = [];
  for (let at = body.indexOf('_0000'); at !== -1; at = body.indexOf('_0000', at + 1)) marks.push(at + 1);
  const fd = openSync(path, 'w');
  let size = 0;
  try {
    for (let f = 0; f < FAMILIES; f++) {
      const digits = Buffer.from(String(f).padStart(4, '0'));
      for (const mark of marks) digits.copy(body, mark);
      size += writeSync(fd, body);
    }
    size += writeSync(fd, HISTOGRAM);
  } finally {
    closeSync(fd);
  }
  return size;
}

/** Run promfile with stdin from a file; exit status and peak RSS (VmHWM, polled) in MB. */
function runWrite(input: string, output: string): Promise<{ status: number | null; stderr: string; peakMb: number }> {
  return runPromfile(['write', '--file-path', output], input);
}

function runPromfile(args: string[], input = '/dev/null'): Promise<{ status: number | null; stderr: string; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const stdin = openSync(input, 'r');
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [stdin, 'ignore', 'pipe'] });
    closeSync(stdin);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        // exited between polls
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(poll);
      resolve({ status, stderr, peakMb: peakKb / 1024 });
    });
  });
}

/** Compare two files chunk by chunk; the index of the first difference, or -1. */
function firstDifference(a: string, b: string): number {
  const [fa, fb] = [openSync(a, 'r'), openSync(b, 'r')];
  const [ba, bb] = [Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)];
  try {
    for (let offset = 0; ;) {
      const na = readSync(fa, ba, 0, ba.length, offset);
      const nb = readSync(fb, bb, 0, bb.length, offset);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return offset;
      if (na === 0) return -1;
      offset += na;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

describe('a 600 MB input', () => {
  let dir: string;
  let cleanup: (() => Promise<void>) | undefined;
  let size: number;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('promfile-large-'));
    size = generate(join(dir, 'input.txt'));
  }, 120_000);

  afterAll(async () => cleanup?.());

  it('is written byte for byte, in bounded memory, histogram and all', async () => {
    expect(size).toBeGreaterThan(600_000_000);
    // Other textfiles beside it: one shares a family with the input (read back for the directory check), one does not.
    writeFileSync(
      join(dir, 'apt.prom'),
      '# HELP apt_upgrades_pending Pending.\n# TYPE apt_upgrades_pending gauge\napt_upgrades_pending 3\n',
    );
    writeFileSync(
      join(dir, 'shared.prom'),
      '# HELP big_family_0500 A large family.\n# TYPE big_family_0500 gauge\nbig_family_0500{instance="elsewhere",shard="x"} 1\n',
    );
    const output = join(dir, 'out.prom');
    const result = await runWrite(join(dir, 'input.txt'), output);
    // Every family has an instance label: check's warning, said once for all of them.
    const warned = result.stderr.split('\n').filter(Boolean);
    expect(warned).toHaveLength(5);
    for (const line of warned) expect(line).toMatch(/^promfile: warning: .*collides with the "instance" target label/);
    expect(warned[4]).toMatch(/\(and 995 more like it\)$/);
    expect(result.status).toBe(0);
    // The input is canonical and in name order, the histogram last: the file is the input.
    expect(firstDifference(join(dir, 'input.txt'), output)).toBe(-1);
    // Holding the input would take over 600 MB; one family is under 1 MB.
    expect(result.peakMb).toBeLessThan(200);
  }, 600_000);

  it('beside it, set of a family it shares reads it in chunks for the directory check, never whole', async () => {
    const output = join(dir, 'out.prom');
    expect(statSync(output).size).toBeGreaterThan(600_000_000); // written by the test above
    const result = await runPromfile([
      'set',
      '--dir',
      dir,
      '-f',
      'small',
      'big_family_0999',
      '1',
      '-l',
      'instance=elsewhere',
      '-l',
      'shard=x',
    ]);
    expect(result.stderr).toMatch(/^promfile: warning: [^\n]*collides with the "instance" target label[^\n]*\n$/);
    expect(result.status).toBe(0);
    // The HELP of the family in the 600 MB file, read by a second scan for the one family the check wants.
    expect(readFileSync(join(dir, 'small.prom'), 'utf8')).toContain('# HELP big_family_0999 A large family.\n');
    expect(result.peakMb).toBeLessThan(200);
  }, 600_000);
});
