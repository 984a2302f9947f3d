#!/usr/bin/env node
// `npm run bench`: promfile against the tools users would pick instead.
// Every figure is a ratio against a baseline measured in this same
// invocation, runs interleaved (baseline, subject, baseline, ...), medians
// taken, because shared machines are noisy. Peak RSS comes from
// /usr/bin/time -v when installed, else from polling /proc/PID/status VmHWM.
// Writes BENCHMARKS.md. Options: --quick (smaller inputs, fewer runs),
// --runs N, --out FILE, --only schedule (measure that section alone and
// update it and its goal in the existing file).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFile } from './generate.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'promfile.js');
const NODE = process.execPath;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runsArg = args.indexOf('--runs');
const RUNS = runsArg === -1 ? (quick ? 3 : 7) : Number(args[runsArg + 1]);
const outArg = args.indexOf('--out');
const OUT = outArg === -1 ? join(ROOT, 'BENCHMARKS.md') : resolve(args[outArg + 1]);
const BIG = quick ? 100_000 : 1_000_000;
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

const work = mkdtempSync(join(tmpdir(), 'promfile-bench-'));
const log = (text) => process.stderr.write(`bench: ${text}\n`);

/** Run a command once: wall time (ms) and peak RSS (KB), stdin from a file or string. */
function measure(command, commandArgs, { stdinFile, env, cwd } = {}) {
  return new Promise((resolvePromise, reject) => {
    const timeFile = join(work, `time-${process.hrtime.bigint()}`);
    const [file, argv] = TIME ? [TIME, ['-v', '-o', timeFile, command, ...commandArgs]] : [command, commandArgs];
    const input = stdinFile ? readFileSync(stdinFile) : undefined;
    const start = process.hrtime.bigint();
    const child = spawn(file, argv, {
      stdio: [stdinFile ? 'pipe' : 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
      cwd: cwd ?? work,
    });
    if (input) {
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let peakKb = 0;
    // Without GNU time: VmHWM is the peak RSS so far; sample it until exit.
    const poll = TIME
      ? undefined
      : setInterval(() => {
          try {
            const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (match) peakKb = Math.max(peakKb, Number(match[1]));
          } catch {
            // exited
          }
        }, 5);
    child.on('error', reject);
    child.on('close', (status) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (poll) clearInterval(poll);
      if (TIME) {
        const report = existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : '';
        const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
        if (match) peakKb = Number(match[1]);
        const exit = /Exit status: (\d+)/.exec(report);
        if (exit) status = Number(exit[1]);
        rmSync(timeFile, { force: true });
      }
      resolvePromise({ ms, peakKb, status, stderr });
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Interleave runs of each named command; returns medians per name.
 * `commands`: { name: [command, args, options] }. A failing run aborts.
 */
async function compare(commands, runs = RUNS) {
  const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, { ms: [], peakKb: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const [name, [command, commandArgs, options]] of Object.entries(commands)) {
      const result = await measure(command, commandArgs, options);
      if (result.status !== 0 && !options?.allowFailure)
        throw new Error(`${name} failed (exit ${result.status}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      samples[name].ms.push(result.ms);
      samples[name].peakKb.push(result.peakKb);
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [name, { ms: median(s.ms), peakKb: Math.max(...s.peakKb), runs: s.ms.length }]),
  );
}

function version(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0];
}

function debVersion(pkg) {
  return version('dpkg-query', ['-W', '-f', '${Version}', pkg]);
}

const promfile = (...rest) => [NODE, [BIN, ...rest]];
const nodeEmpty = [NODE, ['-e', '0']];
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtMb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const verdict = (ok) => (ok ? 'met' : '**missed**');

function commandWorks(...rest) {
  return spawnSync(NODE, [BIN, ...rest], { encoding: 'utf8' }).status === 0;
}

/** A python3 that has prometheus_client (a pyenv python3 may shadow Debian's /usr/bin/python3). */
const [PYTHON, PYTHON_CLIENT] = (() => {
  for (const python of ['python3', '/usr/bin/python3']) {
    const result = spawnSync(python, ['-c', 'import prometheus_client, importlib.metadata as m; print(m.version("prometheus_client"))'], {
      encoding: 'utf8',
    });
    if (result.status === 0) return [python, result.stdout.trim()];
  }
  return [undefined, undefined];
})();

const sections = [];
const goals = [];

async function coldStart() {
  log('cold start');
  const dir = join(work, 'cold');
  spawnSync('mkdir', ['-p', dir]);
  const commands = {
    node: nodeEmpty,
    promfile: [...promfile('set', '--dir', dir, '-f', 'x', 'm', '1'), {}],
  };
  if (PYTHON_CLIENT) {
    const script = `from prometheus_client import CollectorRegistry, Gauge, write_to_textfile\nr = CollectorRegistry()\nGauge('m', 'help', registry=r).set(1)\nwrite_to_textfile(${JSON.stringify(join(dir, 'py.prom'))}, r)\n`;
    commands.python = [PYTHON, ['-c', script]];
  }
  const r = await compare(commands, RUNS * 2);
  const rows = [
    ['`node -e 0` (baseline)', fmtMs(r.node.ms), '1.00×', fmtMb(r.node.peakKb)],
    ['`promfile set -f x m 1`', fmtMs(r.promfile.ms), ratio(r.promfile.ms, r.node.ms), fmtMb(r.promfile.peakKb)],
  ];
  if (r.python) rows.push(['Python `write_to_textfile` script', fmtMs(r.python.ms), ratio(r.python.ms, r.node.ms), fmtMb(r.python.peakKb)]);
  goals.push(['cold start `set` ≤ 1.3× `node -e 0`', ratio(r.promfile.ms, r.node.ms), verdict(r.promfile.ms <= 1.3 * r.node.ms)]);
  if (r.python)
    goals.push([
      'cold start `set` faster than Python `write_to_textfile`',
      ratio(r.promfile.ms, r.python.ms),
      verdict(r.promfile.ms < r.python.ms),
    ]);
  else goals.push(['cold start vs Python `write_to_textfile`', 'not measured: python3 with prometheus_client unavailable', 'pending']);
  sections.push([
    'Cold start',
    `${r.node.runs} interleaved runs each, medians.`,
    ['command', 'wall (median)', 'vs node -e 0', 'peak RSS'],
    rows,
  ]);
}

async function runCommand() {
  log('run');
  if (!commandWorks('run', '--help')) {
    goals.push(['`run --job x -- true` ≤ 1.5× `node -e 0`', 'pending: `promfile run` not available in this build', 'pending']);
    return;
  }
  const dir = join(work, 'run');
  spawnSync('mkdir', ['-p', dir]);
  const r = await compare({ node: nodeEmpty, run: [...promfile('run', '--dir', dir, '--job', 'x', '--', 'true'), {}] }, RUNS * 2);
  goals.push(['`run --job x -- true` ≤ 1.5× `node -e 0`', ratio(r.run.ms, r.node.ms), verdict(r.run.ms <= 1.5 * r.node.ms)]);
  sections.push([
    '`promfile run`',
    `${r.node.runs} interleaved runs each, medians.`,
    ['command', 'wall (median)', 'vs node -e 0', 'peak RSS'],
    [
      ['`node -e 0` (baseline)', fmtMs(r.node.ms), '1.00×', fmtMb(r.node.peakKb)],
      ['`promfile run --job x -- true`', fmtMs(r.run.ms), ratio(r.run.ms, r.node.ms), fmtMb(r.run.peakKb)],
    ],
  ]);
}

/**
 * `run --schedule` against `run` alone: the cron parsing (croner, loaded only
 * for --schedule) must cost at most 5%. Many interleaved pairs, because a 5%
 * difference is smaller than the noise of one cold start on a busy machine.
 */
async function scheduleOverhead() {
  log('run with a schedule');
  const dir = join(work, 'schedule');
  spawnSync('mkdir', ['-p', dir]);
  const pairs = RUNS * 6;
  const r = await compare(
    {
      plain: [...promfile('run', '--dir', dir, '--job', 'plain', '--', 'true'), {}],
      scheduled: [
        ...promfile('run', '--dir', dir, '--job', 'scheduled', '--schedule', 'CRON_TZ=Europe/Berlin 17 3 * * *', '--', 'true'),
        {},
      ],
    },
    pairs,
  );
  goals.push(['`run --schedule` ≤ 1.05× `run`', ratio(r.scheduled.ms, r.plain.ms), verdict(r.scheduled.ms <= 1.05 * r.plain.ms)]);
  sections.push([
    '`promfile run` with and without `--schedule`',
    `${pairs} interleaved pairs, medians: the schedule's cost is croner's load and one next/previous computation.`,
    ['command', 'wall (median)', 'vs run', 'peak RSS'],
    [
      ['`run --job plain -- true` (baseline)', fmtMs(r.plain.ms), '1.00×', fmtMb(r.plain.peakKb)],
      [
        "`run --job scheduled --schedule 'CRON_TZ=Europe/Berlin 17 3 * * *' -- true`",
        fmtMs(r.scheduled.ms),
        ratio(r.scheduled.ms, r.plain.ms),
        fmtMb(r.scheduled.peakKb),
      ],
    ],
  ]);
}

async function bigWrite(input, bytes) {
  log(`write of ${BIG} series`);
  const dir = join(work, 'write');
  spawnSync('mkdir', ['-p', dir]);
  const commands = {
    sponge: ['sponge', [join(dir, 'sponge.txt')], { stdinFile: input }],
    promfile: [...promfile('write', '--dir', dir, '-f', 'big'), { stdinFile: input }],
  };
  const promtool = version('promtool', ['--version']) ? 'promtool' : undefined;
  if (promtool) commands.promtool = ['promtool', ['check', 'metrics'], { stdinFile: input, allowFailure: true }];
  const runs = Math.max(3, Math.ceil(RUNS / 2));
  const r = await compare(commands, runs);
  const written = readFileSync(join(dir, 'big.prom'));
  const sameBytes = written.equals(readFileSync(input));
  const rows = [
    ['`sponge` (baseline)', fmtMs(r.sponge.ms), '1.00×', fmtMb(r.sponge.peakKb), '—'],
    [
      '`promfile write`',
      fmtMs(r.promfile.ms),
      ratio(r.promfile.ms, r.sponge.ms),
      fmtMb(r.promfile.peakKb),
      ratio(r.promfile.peakKb * 1024, bytes),
    ],
  ];
  if (r.promtool)
    rows.push([
      '`promtool check metrics`',
      fmtMs(r.promtool.ms),
      ratio(r.promtool.ms, r.sponge.ms),
      fmtMb(r.promtool.peakKb),
      ratio(r.promtool.peakKb * 1024, bytes),
    ]);
  let python;
  if (PYTHON_CLIENT) {
    // One run: the pure-Python parser takes much longer than the others.
    const script =
      'import sys\nfrom prometheus_client.parser import text_string_to_metric_families as parse\nprint(sum(len(f.samples) for f in parse(sys.stdin.read())))\n';
    python = (await compare({ python: [PYTHON, ['-c', script], { stdinFile: input }] }, 1)).python;
    rows.push([
      'Python `prometheus_client` parser (1 run)',
      fmtMs(python.ms),
      ratio(python.ms, r.sponge.ms),
      fmtMb(python.peakKb),
      ratio(python.peakKb * 1024, bytes),
    ]);
  }
  goals.push([
    `\`write\` of ${BIG.toLocaleString('en')} series ≤ 3× \`sponge\``,
    ratio(r.promfile.ms, r.sponge.ms),
    verdict(r.promfile.ms <= 3 * r.sponge.ms),
  ]);
  if (r.promtool)
    goals.push([
      '`write` faster than `promtool check metrics`',
      ratio(r.promfile.ms, r.promtool.ms),
      verdict(r.promfile.ms < r.promtool.ms),
    ]);
  if (python)
    goals.push([
      '`write` faster than Python `prometheus_client` parser',
      ratio(r.promfile.ms, python.ms),
      verdict(r.promfile.ms < python.ms),
    ]);
  goals.push(['`write` peak RSS ≤ 4× input size', ratio(r.promfile.peakKb * 1024, bytes), verdict(r.promfile.peakKb * 1024 <= 4 * bytes)]);
  sections.push([
    `\`promfile write\` of ${BIG.toLocaleString('en')} series`,
    `Input: ${(bytes / 1e6).toFixed(1)} MB, 1,000 families, 3 labels per series, HELP with escapes (bench/generate.js). ${runs} interleaved runs, medians; peak RSS is the maximum over the runs. promfile's output is ${sameBytes ? 'byte-identical to the (already canonical) input' : 'NOT byte-identical to the input'}.`,
    ['command', 'wall (median)', 'vs sponge', 'peak RSS', 'RSS / input'],
    rows,
  ]);
}

async function mergeSet() {
  log('set into a 100k-series file');
  const dir = join(work, 'merge');
  spawnSync('mkdir', ['-p', dir]);
  const input = join(work, 'in-100k.txt');
  await generateFile(input, 100_000);
  const seeded = spawnSync(NODE, [BIN, 'write', '--dir', dir, '-f', 'big'], { input: readFileSync(input) });
  if (seeded.status !== 0) throw new Error(`seeding the 100k file failed: ${seeded.stderr}`);
  const r = await compare({
    node: nodeEmpty,
    empty: [...promfile('set', '--dir', dir, '-f', 'small', 'bench_new_series', '1'), {}],
    big: [...promfile('set', '--dir', dir, '-f', 'big', 'bench_new_series{source="bench"}', '1'), {}],
  });
  const series = readFileSync(join(dir, 'big.prom'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')).length;
  sections.push([
    '`promfile set` merging one series into a 100,000-series file',
    `${r.node.runs} interleaved runs each, medians. The file holds ${series.toLocaleString('en')} series afterwards.`,
    ['command', 'wall (median)', 'vs node -e 0', 'peak RSS'],
    [
      ['`node -e 0` (baseline)', fmtMs(r.node.ms), '1.00×', fmtMb(r.node.peakKb)],
      ['`set` into an empty file', fmtMs(r.empty.ms), ratio(r.empty.ms, r.node.ms), fmtMb(r.empty.peakKb)],
      ['`set` into the 100,000-series file', fmtMs(r.big.ms), ratio(r.big.ms, r.node.ms), fmtMb(r.big.peakKb)],
    ],
  ]);
}

async function concurrentInc() {
  log('100 concurrent inc');
  if (!commandWorks('inc', '--help')) {
    goals.push(['100 concurrent `inc`', 'pending: `promfile inc` not available in this build', 'pending']);
    return;
  }
  const runs = [];
  let firstFailure;
  for (let round = 0; round < 3; round++) {
    const dir = mkdtempSync(join(work, 'inc-'));
    const start = process.hrtime.bigint();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => measure(NODE, [BIN, 'inc', '--dir', dir, '-f', 'c', 'bench_events_total'])),
    );
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const nodeStart = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 100 }, () => measure(...nodeEmpty)));
    const nodeMs = Number(process.hrtime.bigint() - nodeStart) / 1e6;
    const line = readFileSync(join(dir, 'c.prom'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('bench_events_total '));
    const failed = results.filter((r) => r.status !== 0);
    if (failed[0])
      firstFailure ??=
        failed[0].stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('promfile:'))[0] ?? `exit ${failed[0].status}`;
    runs.push({
      ms,
      nodeMs,
      failures: failed.length,
      value: line ? Number(line.split(' ')[1]) : NaN,
      leftovers: readdirSync(dir).filter((f) => f !== 'c.prom'),
    });
  }
  const ms = median(runs.map((r) => r.ms));
  const nodeMs = median(runs.map((r) => r.nodeMs));
  const values = runs.map((r) => r.value);
  goals.push([
    '100 concurrent `inc`: final value 100, no failure',
    values.join(', '),
    verdict(values.every((v) => v === 100) && runs.every((r) => r.failures === 0)),
  ]);
  sections.push([
    '100 concurrent `promfile inc` on one file',
    `3 rounds; each round starts 100 \`inc\` processes at once on a fresh file, then 100 \`node -e 0\` at once as the baseline. ${availableParallelism()} CPUs.${firstFailure ? ` First failure: \`${firstFailure}\`.` : ''}`,
    ['', 'wall (median)', 'vs 100 × node -e 0', 'final values', 'failed processes', 'files left beside c.prom'],
    [
      [
        '100 × `promfile inc`',
        fmtMs(ms),
        ratio(ms, nodeMs),
        values.join(', '),
        String(runs.reduce((n, r) => n + r.failures, 0)),
        runs.flatMap((r) => r.leftovers).join(' ') || 'none',
      ],
    ],
  ]);
}

async function scaling(bigInput, bigBytes) {
  log('scaling');
  const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const dir = join(work, 'scale');
  spawnSync('mkdir', ['-p', dir]);
  const rows = [];
  const perSeries = [];
  const cold = (await compare({ node: [...promfile('set', '--dir', dir, '-f', 'cold', 'm', '1'), {}] })).node.ms;
  for (const size of sizes) {
    const input = size === BIG ? bigInput : join(work, `in-${size}.txt`);
    const bytes = size === BIG ? bigBytes : await generateFile(input, size);
    const r = await compare(
      { w: [...promfile('write', '--dir', dir, '-f', `s${size}`), { stdinFile: input }] },
      size >= 1_000_000 ? 3 : RUNS,
    );
    const us = ((r.w.ms - cold) * 1000) / size;
    perSeries.push(us);
    rows.push([size.toLocaleString('en'), `${(bytes / 1e6).toFixed(1)} MB`, fmtMs(r.w.ms), `${us.toFixed(2)} µs`, fmtMb(r.w.peakKb)]);
  }
  // 10k is dominated by fixed costs; linearity is judged between the two largest sizes.
  const growth = perSeries.at(-1) / perSeries.at(-2);
  goals.push([
    `\`write\` time linear in series (per-series time at ${sizes.at(-1).toLocaleString('en')} within 1.5× of ${sizes.at(-2).toLocaleString('en')})`,
    ratio(perSeries.at(-1), perSeries.at(-2)),
    verdict(growth <= 1.5),
  ]);
  sections.push([
    'Scaling of `promfile write`',
    `Per-series time excludes the start-up (a \`set\` of one series, ${fmtMs(cold)} median, measured in this run).`,
    ['series', 'input', 'wall (median)', 'per series', 'peak RSS'],
    rows,
  ]);
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

/** Replace (or add) this run's goal rows and sections in the existing file, keeping everything else. */
function updateSections(file) {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  let md = readFileSync(file, 'utf8');
  for (const goal of goals) {
    const row = `| ${goal.join(' | ')} |`;
    const existing = md.split('\n').find((line) => line.startsWith(`| ${goal[0]} |`));
    md = existing ? md.replace(existing, row) : md.replace(/(## Goals\n\n(?:\|.*\n)+)/, `$1${row}\n`);
  }
  for (const [title, note, header, rows] of sections) {
    const text = `## ${title}\n\n${note} Measured alone (\`--only ${ONLY}\`) on ${new Date().toISOString()}, load average ${load}.\n\n${table(header, rows)}\n\n`;
    const start = md.indexOf(`## ${title}\n`);
    const end = start === -1 ? -1 : md.indexOf('\n## ', start + 1) + 1;
    md = start === -1 ? md.replace('## What limits promfile', `${text}## What limits promfile`) : md.slice(0, start) + text + md.slice(end);
  }
  writeFileSync(file, md);
}

async function main() {
  const started = Date.now();
  if (ONLY === 'schedule') {
    await scheduleOverhead();
    updateSections(OUT);
    process.stdout.write(`${table(['goal', 'measured', 'result'], goals)}\n`);
    return;
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  const bigInput = join(work, `in-${BIG}.txt`);
  log(`generating ${BIG} series`);
  const bigBytes = await generateFile(bigInput, BIG);
  await coldStart();
  await runCommand();
  await scheduleOverhead();
  await bigWrite(bigInput, bigBytes);
  await mergeSet();
  await concurrentInc();
  await scaling(bigInput, bigBytes);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const machine = [
    ['date', new Date().toISOString()],
    ['CPU', `${cpus()[0]?.model ?? 'unknown'} × ${availableParallelism()} (nproc)`],
    ['memory', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['load average at start', readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')],
    ['node', process.version],
    [
      'promfile',
      `${pkg.version} (${spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || 'unknown commit'})`,
    ],
    ['sponge (moreutils)', debVersion('moreutils') ?? 'not installed'],
    ['promtool', version('promtool', ['--version']) ?? 'not installed'],
    [
      'python3 / prometheus_client',
      PYTHON_CLIENT
        ? `${PYTHON} (${version(PYTHON, ['--version'])}) / ${PYTHON_CLIENT}`
        : 'unavailable (install Debian python3-prometheus-client; PyPI is not reachable here): Python comparisons not measured',
    ],
    ['peak RSS from', TIME ? '/usr/bin/time -v' : 'polling /proc/PID/status VmHWM every 5 ms'],
    ['mode', quick ? `--quick (${BIG.toLocaleString('en')}-series "big" input)` : 'full'],
    ['bench duration', `${((Date.now() - started) / 1000).toFixed(0)} s`],
  ];
  const md = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (bench/run.js); do not edit by hand. Every figure is measured in one',
    'invocation against a baseline run in the same invocation, runs interleaved, medians reported, because',
    'shared machines are noisy: compare the ratios, not the absolute times.',
    '',
    table(['', ''], machine),
    '',
    '## Goals',
    '',
    table(['goal', 'measured', 'result'], goals),
    '',
    ...sections.flatMap(([title, note, header, rows]) => [`## ${title}`, '', note, '', table(header, rows), '']),
    '## What limits promfile',
    '',
    'Static notes from profiling during development (`node --cpu-prof bin/promfile.js write ... < input`), not',
    'generated by this run:',
    '',
    '- **`write` vs `sponge`** (goal ≤ 3×): cannot be met by a validating writer in Node. `sponge` copies bytes;',
    '  promfile decodes the UTF-8, parses and validates every series, renders canonical text and fsyncs it. In a',
    '  profile of the 1M-series write: parsing ≈ 1.0-1.6 s, validation ≈ 0.45 s, rendering ≈ 0.35 s, UTF-8',
    '  encoding of the output ≈ 0.3 s, garbage collection ≈ 0.7 s, fsync of the file ≈ 0.3 s, start-up ≈ 0.1 s.',
    '  Even promtool, in Go and without writing anything, is ~20× sponge.',
    '- **`write` vs `promtool check metrics`** (goal: faster): level, 0.89-1.06× across runs on this shared',
    '  machine, once `write` validated once instead of twice and streamed its output; it was 1.2-1.35× slower.',
    '- **peak RSS** (goal ≤ 4× input): met for this input after three changes: stdin is decoded as it arrives,',
    '  the output is rendered and written family by family, and repeated label values share one string (it was',
    "  9.6×, the same as promtool). The generated input's label values repeat across families, as real ones do;",
    '  with two of three labels unique per series it measured 4.6× (405 MB for 87 MB). What remains while',
    '  parsing is the decoded text and the model (sample and label objects); lower needs a streaming parse',
    '  (validate and emit family by family without a model of the whole file), which changes how `write`',
    '  normalizes (it sorts families and regroups non-contiguous ones).',
    '- A CPU profile of the 1M write has no single hot spot: GC 15%, label scanning 12%, sample parsing 10%,',
    '  validation 9%, rendering 8%.',
    '- **cold start** (goal ≤ 1.3×): about 30 ms of module loading on top of bare node: commander alone ≈ 8 ms',
    '  (required as CommonJS; as ESM it was ≈ 11 ms), our modules for one command ≈ 15 ms (Node 20 has no compile',
    '  cache for ES modules), plus the lock, the write and two fsyncs (file and directory). Already done: each',
    '  command loads only its own modules, commander is loaded with require(), node:crypto (3 ms) is not loaded.',
    "  Python's `write_to_textfile` parses nothing and does not fsync.",
    '- **`run`**: the cold start plus spawning the command and two locked, fsynced writes (start and end).',
    '',
    'Speed-ups made for these figures: rendering joins lines per family instead of `+=` over the whole file',
    '(render of 1M series 3.1 s → 0.83 s, 420 MB less); validation finds duplicate series by a hash before',
    'building key strings and checks each label name once per family (0.86 s → 0.45 s per pass); the parser',
    'interns metric and label names and slices label values without escapes in one step (2.7 s → 2.2 s,',
    '35 MB less).',
    '',
  ].join('\n');
  writeFileSync(OUT, md);
  log(`wrote ${OUT}`);
  process.stdout.write(`${table(['goal', 'measured', 'result'], goals)}\n`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
