// The one spawner (src/job/spawn.ts) in the library: its exit decides, its
// captured stdout is complete unless a process outside the group holds it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DRAIN_AFTER_EXIT_MS, startChild } from '../../src/job/spawn.js';
import { tempDir } from '../helpers/cli.js';

const env = { PATH: process.env['PATH'] };

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  const pid = Number(await readFile(join(dir, 'holder.pid'), 'utf8').catch(() => '0'));
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await cleanup();
});

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('startChild', () => {
  it('reads a large captured output to its end: the drain after the exit never cuts what the child wrote', async () => {
    const child = startChild('sh', ['-c', 'head -c 3000000 /dev/zero; echo end'], { env, captureStdout: true });
    const [bytes, exit] = await Promise.all([collect(child.stdout), child.exit]);
    expect(exit).toMatchObject({ status: 0, outputHeld: false, timedOut: false });
    expect(bytes.length).toBe(3_000_004);
    expect(bytes.subarray(-4).toString()).toBe('end\n');
  });

  it('stops reading DRAIN_AFTER_EXIT_MS after the exit when a setsid process holds stdout, with all the child wrote', async () => {
    const pidFile = join(dir, 'holder.pid');
    const script = `setsid sleep 316 & p=$!; echo $p > ${pidFile}; until [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ]; do sleep 0.01; done; echo "m 1"`;
    const started = Date.now();
    const child = startChild('sh', ['-c', script], { env, captureStdout: true });
    const [bytes, exit] = await Promise.all([collect(child.stdout), child.exit]);
    expect(exit).toMatchObject({ status: 0, outputHeld: true });
    expect(bytes.toString()).toBe('m 1\n');
    expect(Date.now() - started).toBeGreaterThanOrEqual(DRAIN_AFTER_EXIT_MS);
  });

  it('takes a timeout beyond what setTimeout holds (2^31 ms) without firing it at once or warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const child = startChild('sleep', ['0.3'], { env, timeoutMs: 2 ** 31 + 1_000 });
      expect(await child.exit).toMatchObject({ status: 0, timedOut: false });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((warning) => warning.name)).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
