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
require('../dist/promfile.cjs');
