#!/usr/bin/env node
// `npm run deb`: build/promfile_<version>_all.deb from the one-file build (run `npm run build`
// first; the npm script does). `node scripts/deb.mjs DIR` builds into DIR instead (emptied first), so
// that two tests can build the package at once. Runs on Debian's own Node.js (Depends: nodejs >= 18.19).
// Maintainer: $DEBFULLNAME <$DEBEMAIL>, as Debian's tools take it. Dates come from
// $SOURCE_DATE_EPOCH, else the last commit, so the same tree gives the same package.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

process.umask(0o022);
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DIST = join(ROOT, 'dist');
const OUT = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'build');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const floor = /^>=(\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
if (!floor) throw new Error(`engines.node "${pkg.engines.node}" is not of the form >=X.Y`);
const maintainer = `${process.env.DEBFULLNAME ?? 'promfile maintainers'} <${process.env.DEBEMAIL ?? 'promfile@packages.invalid'}>`;
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? gitCommitTime());
const stage = join(OUT, 'deb-root');
const debName = `${pkg.name}_${pkg.version}_all.deb`;

function gitCommitTime() {
  try {
    return execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return String(Math.floor(Date.now() / 1000));
  }
}

function put(path, content, mode = 0o644) {
  const target = join(stage, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  chmodSync(target, mode);
}

/** gzip -9n: no name or time in the header, so the package is reproducible. */
const gzip = (content) => {
  const bytes = gzipSync(content, { level: 9 });
  bytes[9] = 3; // OS: Unix, as gzip(1) writes it
  return bytes;
};

/** Every file under `dir`, relative to the staging root. */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path.slice(stage.length + 1)];
  });
}

function md5sums() {
  return filesUnder(join(stage, 'usr'))
    .sort()
    .map(
      (path) =>
        `${createHash('md5')
          .update(readFileSync(join(stage, path)))
          .digest('hex')}  ${path}\n`,
    )
    .join('');
}

function duKib(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? duKib(path) : Math.ceil(statSync(path).size / 1024);
  }
  return total;
}

function debianChangelog() {
  const date = new Date(epoch * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1, $2 $3 $4 $5 +0000');
  return `${pkg.name} (${pkg.version}) unstable; urgency=medium

  * Release ${pkg.version}; the changes are in CHANGELOG.md.gz.

 -- ${maintainer}  ${date}
`;
}

function copyright() {
  // Debian wants the Apache licence referred to, not repeated (lintian: copyright-file-contains-full-apache-2-license).
  const separator = `\n${'-'.repeat(72)}\n\n`;
  const notices = readFileSync(join(DIST, 'THIRD-PARTY-NOTICES.txt'), 'utf8')
    .split(separator)
    .map((notice) => {
      const [header] = notice.split('\n');
      return header.endsWith('(Apache-2.0)') ? `${header}\n\nApache License 2.0: /usr/share/common-licenses/Apache-2.0\n` : notice;
    })
    .join(separator);
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  const body = (text) =>
    text
      .trim()
      .split('\n')
      .map((line) => (line.trim() === '' ? ' .' : ` ${line}`))
      .join('\n');
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ${pkg.name}
${pkg.homepage ? `Source: ${pkg.homepage}\n` : ''}Comment: usr/lib/promfile/promfile.cjs also holds the packages listed, with their
 licence texts, in the last paragraph.

Files: *
Copyright: 2026 the promfile contributors
License: MIT
${body(license.replace(/^MIT License\s*\n\s*Copyright.*\n/, ''))}

Files: usr/lib/promfile/promfile.cjs
Copyright: the authors named in each licence below
License: MIT and Apache-2.0
 The bundled packages and their licences.
 .
${body(notices)}
`;
}

function control() {
  return `Package: ${pkg.name}
Version: ${pkg.version}
Architecture: all
Maintainer: ${maintainer}
Installed-Size: ${duKib(stage)}
Depends: nodejs (>= ${floor})
Section: admin
Priority: optional
${pkg.homepage ? `Homepage: ${pkg.homepage}\n` : ''}Description: write Prometheus metrics into node_exporter's textfile directory
 promfile writes metrics for the textfile collector of the Prometheus node
 exporter: validated against node_exporter's own rules, replaced atomically,
 merged under a lock. It records cronjob runs (promfile run), checks the
 directory the way node_exporter reads it, and removes stale files.
`;
}

rmSync(OUT, { recursive: true, force: true });
// /usr/bin/promfile is bin/promfile.js (the version check) pointed at the installed bundle.
const shim = readFileSync(join(ROOT, 'bin', 'promfile.js'), 'utf8')
  .replace(/^#!.*\n/, '#!/usr/bin/node\n')
  .replace("var BUNDLE = '../dist/promfile.cjs';", "var BUNDLE = '/usr/lib/promfile/promfile.cjs';");
if (!shim.includes("var BUNDLE = '/usr/lib/promfile/promfile.cjs';"))
  throw new Error('bin/promfile.js no longer sets BUNDLE to ../dist/promfile.cjs');
put('usr/bin/promfile', shim, 0o755);
put('usr/lib/promfile/promfile.cjs', readFileSync(join(DIST, 'promfile.cjs')));
put('usr/share/man/man1/promfile.1.gz', gzip(readFileSync(join(DIST, 'man', 'promfile.1'))));
put('usr/share/bash-completion/completions/promfile', readFileSync(join(DIST, 'completions', 'promfile.bash')));
put('usr/share/zsh/vendor-completions/_promfile', readFileSync(join(DIST, 'completions', '_promfile')));
put('usr/share/doc/promfile/README.md.gz', gzip(readFileSync(join(ROOT, 'README.md'))));
// The reference the README links to (docs/NAME.md), beside it.
for (const name of readdirSync(join(ROOT, 'docs')).filter((file) => file.endsWith('.md')))
  put(`usr/share/doc/promfile/docs/${name}.gz`, gzip(readFileSync(join(ROOT, 'docs', name))));
put('usr/share/doc/promfile/CHANGELOG.md.gz', gzip(readFileSync(join(ROOT, 'CHANGELOG.md'))));
put('usr/share/doc/promfile/changelog.gz', gzip(debianChangelog()));
put('usr/share/doc/promfile/LICENSE', readFileSync(join(ROOT, 'LICENSE')));
put('usr/share/doc/promfile/copyright', copyright());
put('DEBIAN/md5sums', md5sums());
put('DEBIAN/control', control());
copyFileSync(join(stage, 'DEBIAN', 'control'), join(OUT, 'control'));

execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, join(OUT, debName)], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
});
process.stdout.write(`${join(OUT, debName)}\n`);
