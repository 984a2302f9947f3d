// A closed stdout or stderr (`| head`, `2>&1 | true`) must not change what
// promfile writes or records: the reader going away is not the job failing.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

/**
 * Run promfile with the read end of its stdout or stderr closed before it
 * starts, as `promfile ... 2>&1 | true` does; returns the exit status and
 * whatever reached the other stream.
 */
function withClosedOutput(args: string[], closed: 'stdout' | 'stderr', input = ''): Promise<{ status: number | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    child[closed].destroy();
    let other = '';
    child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk: Buffer) => (other += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, other }));
    child.stdin.end(input);
  });
}

describe('a closed stderr', () => {
  it('run still records the end of the job (running 0) and exits with its status', async () => {
    const script = 'echo "m 1 1700000000000" >> "$PROMFILE_METRICS"';
    const result = await withClosedOutput(['run', '--dir', dir, '--job', 'j', '--', 'sh', '-c', script], 'stderr');
    expect(result.status).toBe(0);
    const text = await readFile(join(dir, 'j.prom'), 'utf8');
    expect(text).toContain('promfile_job_running{job_name="j"} 0');
    expect(text).toContain('m{job_name="j"} 1');
  });

  it('write --strip-timestamps still writes the file after its warning', async () => {
    const result = await withClosedOutput(['write', '--dir', dir, '-f', 'w', '--strip-timestamps'], 'stderr', 'a 1 1700000000000\n');
    expect(result.status).toBe(0);
    expect(await readFile(join(dir, 'w.prom'), 'utf8')).toBe('# TYPE a untyped\na 1\n');
  });
});

describe('a closed stdout', () => {
  it('--dry-run | head ends quietly: no stack trace, no file', async () => {
    // Its own metric name: the directory's other files already have an m.
    const input = Array.from({ length: 20000 }, (_, i) => `dry_series{i="${i}"} ${i}\n`).join('');
    const result = await withClosedOutput(['write', '--dir', dir, '-f', 'dry', '--dry-run'], 'stdout', input);
    expect(result).toEqual({ status: 0, other: '' });
    expect(await readdir(dir)).not.toContain('dry.prom');
  });
});
