#!/usr/bin/env node
// `node bench/lock.js`: the cost of one kernel lock (flock(2) through util-linux
// flock(1), src/textfile/lock.ts) per call, against a baseline measured in the
// same run and interleaved with it: one spawn of `node -e 0` (what every
// promfile command costs at least). Prints a Markdown table for BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, isLockHeld } from '../dist/textfile/lock.js';

const ROUNDS = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'promfile-bench-lock-'));
const path = join(dir, '.x.prom.lock');
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const time = async (fn) => {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const samples = { node: [], acquire: [], probe: [] };
for (let i = 0; i < ROUNDS; i++) {
  samples.node.push(await time(() => spawnSync(process.execPath, ['-e', '0'])));
  samples.acquire.push(await time(async () => (await acquireLock(path)).release()));
  samples.probe.push(await time(() => isLockHeld(path)));
}
rmSync(dir, { recursive: true, force: true });
const base = median(samples.node);
const row = (what, values) => `| ${what} | ${median(values).toFixed(1)} ms | ${((median(values) / base) * 100).toFixed(0)}% |`;
console.log(`| per call (median of ${ROUNDS}, interleaved) | time | vs \`node -e 0\` |`);
console.log('|---|---|---|');
console.log(row('`node -e 0` (baseline)', samples.node));
console.log(row('take and release an uncontended lock (open, flock(1) -w, fstat/lstat check, close)', samples.acquire));
console.log(row('probe (`isLockHeld`: open read-only, flock(1) -n -s, close), as gc does', samples.probe));
