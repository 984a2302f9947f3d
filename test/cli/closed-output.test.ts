// A closed stdout or stderr (`| head`, `2>&1 | true`) must not change what
// promfile writes or records: the reader going away is not the job failing.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
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

describe('a slow reader on a non-blocking stdout', () => {
  it('gets all of the output: a full pipe (EAGAIN) hands the rest to a stream that waits', async () => {
    // A FIFO whose reader waits a second before reading, opened for writing with
    // O_NONBLOCK (shared with promfile, which inherits the open file): more than the
    // pipe holds makes promfile's direct write fail with EAGAIN.
    const fifo = join(dir, 'slow-fifo');
    const copy = join(dir, 'slow-copy');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('sh', ['-c', 'exec 3<"$1"; sleep 1; cat <&3 >"$2"', 'sh', fifo, copy], { stdio: 'ignore' });
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    let fd: number | undefined;
    for (let tries = 0; fd === undefined && tries < 200; tries++) {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 25)); // ENXIO until the reader has opened it
      }
    }
    if (fd === undefined) throw new Error('the reader never opened the FIFO');
    const input = Array.from({ length: 20000 }, (_, i) => `slow_series{i="${i}"} ${i}\n`).join('');
    const child = spawn(process.execPath, [BIN, 'write', '--dir', dir, '-f', 'slow', '--dry-run'], { stdio: ['pipe', fd, 'pipe'] });
    closeSync(fd);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin?.end(input);
    const status = await new Promise((resolve) => child.on('close', resolve));
    await readerDone;
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    const printed = await readFile(copy, 'utf8');
    expect(printed.length).toBeGreaterThan(256 * 1024); // far more than a pipe holds
    expect(printed).toBe(`# TYPE slow_series untyped\n${input}`);
  });
});
