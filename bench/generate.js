// Generates the benchmark inputs: valid exposition text with `families`
// families of `series / families` series each, three labels per series and a
// HELP text with escapes. About 90 bytes per series line.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** Text of family `f`, series `from..to-1` (deterministic). */
function familyText(f, perFamily) {
  const name = `bench_metric_${String(f).padStart(4, '0')}${f % 2 === 0 ? '_total' : ''}`;
  const type = f % 2 === 0 ? 'counter' : 'gauge';
  let out = `# HELP ${name} Benchmark family ${f}: a backslash \\\\ and a newline \\n in its HELP.\n# TYPE ${name} ${type}\n`;
  for (let s = 0; s < perFamily; s++) {
    const value = type === 'counter' ? (f * 7919 + s * 104729) % 100000000 : ((s * 2654435761) % 1000000) / 1000 - 100;
    out += `${name}{instance="host-${String(s % 1000).padStart(4, '0')}.example.org",job="job-${s % 17}",shard="${String(s).padStart(6, '0')}"} ${value}\n`;
  }
  return out;
}

/**
 * Write the exposition to `path`; resolves with its size in bytes. `shuffled`
 * prints the same families out of name order, as collectors print them (a
 * fixed permutation: family f goes to place (f * 617) mod families).
 */
export async function generateFile(path, series, families = Math.min(1000, series), { shuffled = false } = {}) {
  const perFamily = Math.ceil(series / families);
  const stream = createWriteStream(path);
  let bytes = 0;
  const order = shuffled ? shuffledOrder(families) : undefined;
  for (let i = 0; i < families; i++) {
    const f = order ? order[i] : i;
    const text = familyText(f, perFamily);
    bytes += Buffer.byteLength(text);
    if (!stream.write(text)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  return bytes;
}

/** 0..n-1 in a fixed order far from sorted (617 is prime, so every family appears once unless n is a multiple of it). */
function shuffledOrder(n) {
  const order = Array.from({ length: n }, (_, i) => (i * 617) % n);
  if (new Set(order).size !== n) throw new Error(`shuffledOrder: ${n} families is a multiple of 617`);
  return order;
}

/** The same exposition as a string (for in-process use). */
export function generateText(series, families = Math.min(1000, series)) {
  const perFamily = Math.ceil(series / families);
  let out = '';
  for (let f = 0; f < families; f++) out += familyText(f, perFamily);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, series = '1000000', families] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: node bench/generate.js OUT.prom [SERIES] [FAMILIES]\n');
    process.exit(2);
  }
  const bytes = await generateFile(path, Number(series), families === undefined ? undefined : Number(families));
  process.stdout.write(`${bytes}\n`);
}
