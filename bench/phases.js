// The phase split of `write` inside one process, before (the strict path:
// decode, parse, render, encode and write) and after (the fast path: read,
// scan+validate+render by copying, write). Usage: node bench/phases.js INPUT DIR.
// Prints JSON: median milliseconds per phase over RUNS runs.
import { closeSync, createReadStream, fsyncSync, openSync, writevSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readExpositionText } from '../dist/cli/input.js';
import { FastScanner } from '../dist/format/fast-scan.js';
import { parseExposition } from '../dist/format/parse.js';
import { renderChunks } from '../dist/format/render.js';
import { writeExpositionStream } from '../dist/textfile/stream-write.js';

const [input, dir] = process.argv.slice(2);
const RUNS = 3;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const chunks = () => createReadStream(input, { highWaterMark: 1 << 16 });

async function strictPhases() {
  let t = now();
  const text = await readExpositionText(chunks());
  const read = now() - t;
  t = now();
  const families = parseExposition(text, { allowMissingFinalNewline: true });
  const parse = now() - t;
  t = now();
  const rendered = [...renderChunks(families)];
  const render = now() - t;
  t = now();
  const path = join(dir, 'phases-strict.prom');
  const handle = await open(path, 'w');
  for (let i = 0; i < rendered.length; i += 64) await handle.writeFile(rendered.slice(i, i + 64).join(''), 'utf8');
  await handle.sync();
  await handle.close();
  const write = now() - t;
  await rm(path);
  return { 'read + decode': read, parse, render, 'encode + write + fsync': write };
}

async function fastPhases() {
  let t = now();
  for await (const chunk of chunks()) void chunk;
  const read = now() - t;
  t = now();
  const output = [];
  const scanner = new FastScanner({}, (block) => output.push(...block.output));
  for await (const chunk of chunks()) scanner.push(chunk);
  scanner.end();
  const scan = now() - t - read;
  const path = join(dir, 'phases-fast.prom');
  t = now();
  const fd = openSync(path, 'w');
  for (let i = 0; i < output.length; i += 512) writevSync(fd, output.slice(i, i + 512));
  fsyncSync(fd);
  closeSync(fd);
  const write = now() - t;
  t = now();
  await writeExpositionStream(path, chunks(), {});
  const all = now() - t;
  await rm(path);
  return { read, 'scan + validate + render (copy)': scan, 'write + fsync': write, 'end to end (writeExpositionStream)': all };
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const results = { strict: [], fast: [] };
for (let i = 0; i < RUNS; i++) {
  results.fast.push(await fastPhases());
  results.strict.push(await strictPhases());
}
const summary = Object.fromEntries(
  Object.entries(results).map(([path, runs]) => [
    path,
    Object.fromEntries(Object.keys(runs[0]).map((phase) => [phase, median(runs.map((r) => r[phase]))])),
  ]),
);
process.stdout.write(`${JSON.stringify(summary)}\n`);
