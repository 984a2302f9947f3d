#!/usr/bin/env node
// The bundle step of `npm run build` (after tsc):
// - dist/promfile.cjs: the CLI in one file (promfile, commander, prom-client), run by
//   bin/promfile.js and installed alone by the .deb. CommonJS, because a single CJS file
//   starts faster than an ESM graph and needs no top-level await.
// - dist/cjs/index.js: the library for `require('promfile')` (dependencies stay external).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DIST = join(ROOT, 'dist');
const { version, engines } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const floor = /^>=(\d+)\.(\d+)$/.exec(engines.node)?.slice(1).map(Number);
if (!floor) throw new Error(`engines.node "${engines.node}" is not of the form >=X.Y`);

// commander requires node:child_process at load time for executable subcommands, which
// promfile has none of; that one require pulls in about 50 of Node's internal modules
// (net, dgram, streams). Give commander a stand-in that requires it on first use.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(builder) {
    builder.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'commander')}`) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    // Our static imports of it (inspect/discover.ts probes node_exporter's version with spawnSync)
    // get functions that require it on their first call: only the lock and `run` need it at all.
    builder.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.startsWith(join(ROOT, 'src')) && args.kind === 'import-statement'
        ? { path: 'child_process', namespace: 'lazy-spawn' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'lazy-spawn' }, () => ({
      contents: `export const spawn = (...args) => require('node:child_process').spawn(...args);
export const spawnSync = (...args) => require('node:child_process').spawnSync(...args);`,
      loader: 'js',
      resolveDir: ROOT,
    }));
    // require('node:process') reads every property of process to build the module's exports, and
    // on Node 18 that creates process.stdout and process.stderr (Node's stream modules): commander
    // gets the global process, which is the same object.
    builder.onResolve({ filter: /^node:process$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'commander')}`) ? { path: 'process', namespace: 'global-process' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'global-process' }, () => ({ contents: 'module.exports = process;', loader: 'js' }));
    // A dynamic import() of a built-in module would stay import() in a CommonJS bundle and load
    // Node's ESM loader (ten more modules); a bundled require() shim keeps it lazy without that.
    builder.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'builtin-shim' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'builtin-shim' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
      resolveDir: ROOT,
    }));
    builder.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let loaded;
module.exports = new Proxy({}, { get: (_, key) => (loaded ??= require('node:${args.path}'))[key] });`,
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};

// Packages that only one command uses (prom-client for push, croner for run --schedule) go into
// the bundle as text, compiled on first use: V8 parses every function of a script when it loads
// it, and these two (with prom-client's dependencies) were a third of the bundle, parsed at every
// start of every command (without it `set` runs 5.5% more instructions, `--version` 11%: BENCHMARKS.md,
// "Mechanisms kept for speed"). Still one file; `inputs` collects what went in, for the notices.
// node:vm compiles the text: it also works where code generation from strings is disallowed.
// The text is our own build's output, never anything from outside.
function embedLazily(packages, inputs) {
  const filter = new RegExp(`^(${packages.join('|')})$`);
  return {
    name: 'embed-lazily',
    setup(builder) {
      builder.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'embedded' }));
      builder.onLoad({ filter: /.*/, namespace: 'embedded' }, async (args) => {
        const inner = await build({
          ...common,
          stdin: { contents: `module.exports = require(${JSON.stringify(args.path)});`, resolveDir: ROOT, loader: 'js' },
          minify: true,
          metafile: true,
          write: false,
        });
        for (const input of Object.keys(inner.metafile.inputs)) inputs.add(input);
        // Stack traces name it promfile.cjs/embedded/croner (a sourceURL cannot contain spaces).
        const text = `${inner.outputFiles[0].text}//# sourceURL=promfile.cjs/embedded/${args.path}\n`;
        return {
          contents: `const embedded = { exports: {} };
require('node:vm').compileFunction(${JSON.stringify(text)}, ['exports', 'require', 'module'])(embedded.exports, require, embedded);
module.exports = embedded.exports;`,
          loader: 'js',
          resolveDir: ROOT,
        };
      });
    },
  };
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18.19',
  format: 'cjs',
  // Licences of bundled packages: dist/THIRD-PARTY-NOTICES.txt (and the .deb's copyright file).
  legalComments: 'none',
  logLevel: 'warning',
  // No source maps: the TypeScript sources are not shipped.
  sourcemap: false,
};

const embeddedInputs = new Set();
const cli = await build({
  ...common,
  metafile: true,
  stdin: {
    // The floor check again, for the one file run on its own (`node promfile.cjs`): bin/promfile.js
    // checks before this file is parsed, this covers Node.js versions that can parse it.
    // `--version` is answered here, before the CLI (commander, the commands) is evaluated: main.ts is
    // imported dynamically, which the bundle turns into a lazy initialisation.
    contents: `import { writeSync } from 'node:fs';
const [major, minor] = process.versions.node.split('.').map(Number);
const args = process.argv.slice(2);
if (major < ${floor[0]} || (major === ${floor[0]} && minor < ${floor[1]})) {
  process.stderr.write('promfile: needs Node.js ${floor.join('.')} or newer; this is ' + process.version + '\\n');
  process.exitCode = 1;
} else if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  try {
    writeSync(1, PROMFILE_VERSION + '\\n');
  } catch {
    // A closed stdout: there is nowhere to say it.
  }
} else import('./src/cli/main.ts').then(({ runCli }) => runCli()).then((code) => { process.exitCode = code; });`,
    resolveDir: ROOT,
    sourcefile: 'promfile-cli-entry.ts',
    loader: 'ts',
  },
  outfile: join(DIST, 'promfile.cjs'),
  define: { PROMFILE_VERSION: JSON.stringify(version) },
  banner: { js: `// promfile ${version} (MIT), bundled with its dependencies; their licences: THIRD-PARTY-NOTICES.txt.` },
  // Whitespace too: V8 scans every byte at each start. Identifiers stay, so stack traces name functions.
  minifySyntax: true,
  minifyWhitespace: true,
  // readVersion()'s import.meta.url is dead code here: PROMFILE_VERSION is defined.
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [lazyChildProcess, embedLazily(['prom-client', 'croner'], embeddedInputs)],
});

writeFileSync(join(DIST, 'THIRD-PARTY-NOTICES.txt'), thirdPartyNotices([...Object.keys(cli.metafile.inputs), ...embeddedInputs]));

await build({
  ...common,
  entryPoints: [join(ROOT, 'src', 'index.ts')],
  outfile: join(DIST, 'cjs', 'index.js'),
  packages: 'external',
});
writeFileSync(join(DIST, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');

/** The licence texts of the packages inside the bundle, which MIT and Apache-2.0 ask to ship with it. */
function thirdPartyNotices(inputs) {
  const packages = new Set();
  for (const input of inputs) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]);
  }
  return [...packages]
    .sort()
    .map((name) => {
      const dir = join(ROOT, 'node_modules', name);
      const { version: packageVersion, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const file = readdirSync(dir).find((entry) => /^licen[cs]e/i.test(entry));
      if (!file) throw new Error(`${name} ships no licence file`);
      return `${name} ${packageVersion} (${license})\n\n${readFileSync(join(dir, file), 'utf8').trim()}\n`;
    })
    .join(`\n${'-'.repeat(72)}\n\n`);
}

// The same declarations for require(): under dist/cjs/ TypeScript reads them as CommonJS.
function copyDeclarations(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory() && source !== join(DIST, 'cjs')) copyDeclarations(source, join(to, entry.name));
    else if (entry.isFile() && entry.name.endsWith('.d.ts')) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, join(to, entry.name));
    }
  }
}
copyDeclarations(DIST, join(DIST, 'cjs'));
process.stderr.write(`bundle: ${relative(ROOT, join(DIST, 'promfile.cjs'))}, ${relative(ROOT, dirname(join(DIST, 'cjs', 'index.js')))}/\n`);

// The man page and the completion scripts, from the command definitions (dist/cli, just
// compiled by tsc): what --help says, they say. The .deb and `npm install -g` install them.
const { createProgram } = await import('../dist/cli/main.js');
const { renderManPage } = await import('../dist/cli/manpage.js');
const { completionScript } = await import('../dist/cli/completion.js');
const quiet = { write: () => true };
const io = { argv: [], env: {}, stdin: [], stdout: quiet, stderr: quiet, now: Date.now, uid: 0, pid: 0, onSignal: () => () => {} };
const program = await createProgram(io, { exitCode: 0 });
mkdirSync(join(DIST, 'man'), { recursive: true });
writeFileSync(join(DIST, 'man', 'promfile.1'), renderManPage(program, version, docSections()));
mkdirSync(join(DIST, 'completions'), { recursive: true });
writeFileSync(join(DIST, 'completions', 'promfile.bash'), completionScript(program, 'bash'));
writeFileSync(join(DIST, 'completions', '_promfile'), completionScript(program, 'zsh'));

/** EXIT STATUS from docs/exit-codes.md (its text before the first subsection), where it is documented. */
function docSections() {
  const doc = readFileSync(join(ROOT, 'docs', 'exit-codes.md'), 'utf8');
  const exitCodes = /^# Exit codes\n([\s\S]*?)(?:\n## |$)/.exec(doc)?.[1];
  if (!exitCodes) throw new Error('docs/exit-codes.md does not start with "# Exit codes"');
  // Table rows become tagged paragraphs, other text paragraphs; header rows are dropped.
  const items = exitCodes
    .replace(/`/g, '')
    .replace(/\[([^\]]+)\]\([^)]+\)/g, '$1')
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .flatMap((block) =>
      block.startsWith('|')
        ? [...block.matchAll(/^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$/gm)]
            .map((row) => [row[1], row[2]])
            .filter(([term]) => !/^:?-+:?$/.test(term))
            .slice(1)
        : [block],
    );
  return [
    { title: 'Exit status', items },
    {
      title: 'Environment',
      items: [
        [
          'PROMFILE_DIR',
          "the textfile directory when --dir is not given (before a running node_exporter's directory and the Debian default)",
        ],
        ['PROMFILE_DEBUG', 'set to 1 to print the stack trace of an internal error'],
        ['NO_COLOR', 'when set (to anything), promfile prints no colour, even on a terminal'],
        ['TMPDIR', 'where run makes the private directory of $PROMFILE_METRICS (default /tmp)'],
        ['TZDIR', 'the time zone files read for run --schedule and --tz (default /usr/share/zoneinfo)'],
        ['PROMFILE_METRICS', 'not read but set, by run, for the job: the file the job writes its own metrics to'],
        ['PATH', 'unit: where it finds promfile and a command given by name, which the unit it writes names by absolute path'],
        ['TRIGGER_UNIT', 'set by systemd in a service a timer started: the timer run --timer reads when no unit is given'],
        [
          'TRIGGER_TIMER_REALTIME_USEC',
          'set by systemd with TRIGGER_UNIT: when the timer fired, from which run --timer computes the next elapse',
        ],
        [
          'PROMFILE_TRUST_PARENT',
          "ignored: earlier versions needed it (or --trust-parent, now a hidden option that does nothing) to write as root into a directory whose parent another account owns; the directory is now reached without following links, so that layout (Debian's) needs nothing",
        ],
      ],
    },
    {
      title: 'See also',
      items: [
        'prometheus-node-exporter(1), promtool(1); README.md and docs/ (cron jobs, checks, security, node_exporter versions, the library) in /usr/share/doc/promfile.',
      ],
    },
  ];
}
