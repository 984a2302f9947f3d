// The public API is what docs/library.md documents: this pins the export list, so
// an internal helper cannot leak out (or a documented name vanish) unnoticed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { NODE, ROOT } from '../helpers/cli.js';
import { findBlock } from '../helpers/docs.js';

const DOCUMENTED = [
  'DEFAULT_TEXTFILE_DIR',
  'ExpositionError',
  'InputError',
  'IoError',
  'PromfileError',
  'checkDirectory',
  'checkText',
  'chooseDirectory',
  'deletePushGroup',
  'mergeFamilies',
  'parseExposition',
  'pushFamilies',
  'renderExposition',
  'setSeries',
  'unsetSeries',
  'updateTextfile',
  'writeRegistry',
  'writeTextfile',
];

describe('public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual([...DOCUMENTED].sort());
  });

  it('docs/library.md documents every exported value', () => {
    const library = readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8');
    expect(DOCUMENTED.filter((name) => !library.includes(`\`${name}`))).toEqual([]);
  });

  it("docs/library.md's ExpositionError example runs against the build and prints what its comment says", () => {
    const block = findBlock('js', /instanceof ExpositionError/)?.code ?? '';
    const said = /\/\/ (.+)$/m.exec(block)?.[1];
    expect(said).toMatch(/^ERR_INVALID_EXPOSITION \d+ \w/);
    // 'promfile' resolves to this package (self-reference), as from node_modules in a project.
    const result = spawnSync(NODE, ['--input-type=module', '-e', block], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(said);
  });
});
