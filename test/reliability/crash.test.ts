// Crash safety: promfile write is killed with SIGKILL at random moments while
// a separate reader process reads the target as fast as it can. Every read
// must be the complete old or the complete new content; what the kills leave
// behind (temp files, locks) must never end in .prom, must not block the next
// write, and must be cleaned by `promfile gc`.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateText } from '../../bench/generate.js';
import { BIN, promfile, tempDir } from '../helpers/cli.js';

const KILLS = 16;
const READER = `
import { existsSync, readFileSync } from 'node:fs';
const [target, oldPath, newPath, stop] = process.argv.slice(1); // -e: no script path in argv
const versions = [readFileSync(oldPath), readFileSync(newPath)];
const result = { reads: 0, complete: [0, 0], partial: 0, missing: 0, partialSizes: [] };
const deadline = Date.now() + 120000;
while (!existsSync(stop) && Date.now() < deadline) {
  let bytes;
  try { bytes = readFileSync(target); } catch { result.missing++; continue; }
  result.reads++;
  const which = versions.findIndex((v) => v.equals(bytes));
  if (which === -1) { result.partial++; if (result.partialSizes.length < 5) result.partialSizes.push(bytes.length); }
  else result.complete[which]++;
}
process.stdout.write(JSON.stringify(result));
`;

/** Resolves (undefined) when it is time to kill: at random, or just after a temp file appears. */
async function killMoment(dir: string, atRandom: boolean, writeMs: number): Promise<undefined> {
  if (atRandom) {
    await sleep(Math.random() * writeMs * 1.5);
    return undefined;
  }
  const deadline = Date.now() + writeMs * 5;
  while (Date.now() < deadline && !readdirSync(dir).some((name) => /^big\.prom\./.test(name))) await sleep(1);
  await sleep(Math.random() * 4);
  return undefined;
}

interface ReaderResult {
  reads: number;
  complete: [number, number];
  partial: number;
  missing: number;
  partialSizes: number[];
}

describe('kill -9 during large writes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('promfile-crash-')));
  afterAll(() => cleanup());

  it(`never exposes a partial file across ${KILLS} kills, and gc cleans what the kills leave`, { timeout: 180_000 }, async () => {
    // Two canonical inputs of ~7 and ~9 MB; what promfile writes for each is the expected content.
    const inputs: [string, string] = [generateText(80_000), generateText(100_000).replaceAll(' 1', ' 2')];
    const expected: Buffer[] = [];
    for (const [index, input] of inputs.entries()) {
      const result = promfile(['write', '--dir', dir, '-f', 'big'], { input });
      expect(result.status, result.stderr).toBe(0);
      expected.push(readFileSync(join(dir, 'big.prom')));
      writeFileSync(join(dir, `expected-${index}`), expected[index] as Buffer);
    }
    expect(expected[0]?.equals(expected[1] as Buffer)).toBe(false);
    // Measure one write to aim the kills across its whole duration.
    const started = Date.now();
    expect(promfile(['write', '--dir', dir, '-f', 'big'], { input: inputs[0] }).status).toBe(0);
    const writeMs = Date.now() - started;

    const stop = join(dir, 'stop');
    const reader = spawn(
      process.execPath,
      ['--input-type=module', '-e', READER, join(dir, 'big.prom'), join(dir, 'expected-0'), join(dir, 'expected-1'), stop],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let readerOutput = '';
    reader.stdout.on('data', (chunk: Buffer) => (readerOutput += chunk.toString()));
    const readerDone = new Promise((resolve) => reader.on('close', resolve));

    let killed = 0;
    let completed = 0;
    const leftovers = new Set<string>();
    for (let i = 0; i < KILLS; i++) {
      const child = spawn(process.execPath, [BIN, 'write', '--dir', dir, '-f', 'big', '--lock-timeout', '20s'], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin.on('error', () => undefined);
      child.stdin.end(inputs[((i + 1) % 2) as 0 | 1]);
      const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
      // Half the kills at a random moment of the whole run (start-up, parse,
      // render), half just after the temp file appears (write, fsync, rename).
      const outcome = await Promise.race([exited.then((status) => ({ status })), killMoment(dir, i % 2 === 0, writeMs)]);
      if (outcome === undefined) {
        child.kill('SIGKILL');
        const status = await exited;
        if (status === null) killed++;
        else completed++;
      } else {
        expect(outcome.status, stderr).toBe(0);
        completed++;
      }
      for (const name of readdirSync(dir)) if (!/^(big\.prom|expected-\d|stop)$/.test(name)) leftovers.add(name);
      // The file on disk is one of the two versions after every kill.
      const onDisk = readFileSync(join(dir, 'big.prom'));
      expect(expected.some((version) => version.equals(onDisk))).toBe(true);
      // Switch versions now and then with a write left alone, so readers see both.
      if (i % 3 === 2) {
        const full = promfile(['write', '--dir', dir, '-f', 'big', '--lock-timeout', '20s'], { input: inputs[(i % 2) as 0 | 1] });
        expect(full.status, full.stderr).toBe(0);
        completed++;
      }
    }
    writeFileSync(stop, '');
    await readerDone;
    const reads = JSON.parse(readerOutput) as ReaderResult;
    console.info(
      `crash safety: one write takes ${writeMs} ms; ${killed} kills, ${completed} writes completed, ${reads.reads} reads (${reads.complete[0]} old, ${reads.complete[1]} new, ${reads.partial} partial, ${reads.missing} missing), leftovers seen: ${[...leftovers].join(' ') || 'none'}`,
    );
    expect(killed).toBeGreaterThan(KILLS / 3);
    expect(reads.partial, `partial reads of sizes ${reads.partialSizes.join(', ')}`).toBe(0);
    expect(reads.missing).toBe(0);
    expect(reads.reads).toBeGreaterThan(KILLS);
    expect(reads.complete[0]).toBeGreaterThan(0);
    expect(reads.complete[1]).toBeGreaterThan(0);
    // Nothing a kill leaves behind is read by node_exporter.
    for (const name of leftovers) expect(name.endsWith('.prom')).toBe(false);

    // The next write is not blocked by a dead writer's lock.
    const next = promfile(['write', '--dir', dir, '-f', 'big', '--lock-timeout', '5s'], { input: inputs[1] });
    expect(next.status, next.stderr).toBe(0);
    expect(readFileSync(join(dir, 'big.prom')).equals(expected[1] as Buffer)).toBe(true);

    // gc removes temp files once they are old enough not to belong to a live writer.
    const temps = readdirSync(dir).filter((name) => /^big\.prom\./.test(name));
    const old = new Date(Date.now() - 10 * 60_000);
    for (const name of temps) utimesSync(join(dir, name), old, old);
    const gc = spawnSync(process.execPath, [BIN, 'gc', '--dir', dir], { encoding: 'utf8' });
    expect(gc.status, gc.stderr).toBe(0);
    const remaining = readdirSync(dir).filter((name) => !/^(expected-\d|stop|\.big\.prom\.lock)$/.test(name));
    expect(remaining).toEqual(['big.prom']);
    console.info(`crash safety: gc removed ${temps.length} temp file(s); the lock file stays (the kernel released it)`);
  });
});
