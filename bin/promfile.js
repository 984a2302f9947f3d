#!/usr/bin/env node
// CommonJS (bin/package.json), written for any Node.js: it checks the version before the
// bundle, whose syntax needs the floor, is parsed. The CLI itself is dist/promfile.cjs.
'use strict';
var FLOOR = [18, 19];
var version = process.versions.node.split('.').map(Number);
if (version[0] < FLOOR[0] || (version[0] === FLOOR[0] && version[1] < FLOOR[1])) {
  process.stderr.write('promfile: needs Node.js ' + FLOOR.join('.') + ' or newer; this is ' + process.version + '\n');
  process.exit(1);
}
// The .deb's /usr/bin/promfile is this file with BUNDLE pointed at /usr/lib/promfile (scripts/deb.mjs).
var BUNDLE = '../dist/promfile.cjs';
try {
  require.resolve(BUNDLE);
} catch {
  // A clone before `npm ci`, which builds it: say so in one line, not a stack trace.
  process.stderr.write('promfile: dist/promfile.cjs is missing: run `npm ci` (or `npm run build`) in the clone first\n');
  process.exit(1);
}
require(BUNDLE);
