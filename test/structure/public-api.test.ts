// The public API is what docs/library.md documents: this pins the export list, so
// an internal helper cannot leak out (or a documented name vanish) unnoticed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { ROOT } from '../helpers/cli.js';

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
});
