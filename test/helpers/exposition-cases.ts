// Exposition text for the tests that hold the fast path to the strict one:
// generated documents (fast-check) and the peer corpus's location.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ROOT } from './cli.js';

// Lines from small pools, so families repeat, suffixes meet their histograms
// and summaries, and every rule of the strict parser gets its turn.
export const names = ['a', 'a_total', 'h', 'h_bucket', 'h_sum', 'h_count', 's', 's_sum', 's_count', 'b:c'];
const labelNames = ['x', 'y', 'le', 'quantile', '__r', 'job', 'z9'];
const labelValues = ['', '1', '0.5', '+Inf', 'v', 'a\\"b', 'a\\\\b', 'l\\nm', 'é日', 'bad\\t', '1.0', 'x y'];
const values = [
  '1',
  '0',
  '-1',
  '1.0',
  '0.5',
  '-0',
  '12345678901234567',
  '1e3',
  '+Inf',
  'NaN',
  '0x1',
  '1_0',
  '',
  '1 123',
  '1\r',
  '0.0000001',
];
const helps = ['Help.', 'with \\\\ and \\n', ' lead', 'bad \\t', 'trail\r', 'x'];
const types = ['counter', 'gauge', 'untyped', 'histogram', 'summary', 'GAUGE', 'bogus'];

const labelSet = fc
  .array(fc.tuple(fc.constantFrom(...labelNames), fc.constantFrom(...labelValues)), { maxLength: 3 })
  .map((pairs) => pairs.map(([k, v]) => `${k}="${v}"`).join(','));
const sampleLine = fc
  .tuple(
    fc.constantFrom(...names),
    fc.option(labelSet, { nil: undefined }),
    fc.constantFrom(' ', '  ', '\t', ''),
    fc.constantFrom(...values),
  )
  .map(([name, labels, space, value]) => `${name}${labels === undefined ? '' : `{${labels}}`}${space}${value}`);
const commentLine = fc.oneof(
  fc.tuple(fc.constantFrom(...names), fc.constantFrom(...helps)).map(([name, help]) => `# HELP ${name} ${help}`),
  fc.tuple(fc.constantFrom(...names), fc.constantFrom(...types)).map(([name, type]) => `# TYPE ${name} ${type}`),
  fc.constantFrom('', '# just a comment', '#HELP a x', '# TYPE  a\tgauge', '  ', '# HELP a', '{x="1"} 1', '\u{feff}a 1', 'a{x="1",} 1'),
);
/** Families as writers emit them: HELP, TYPE, then samples of that name (or its suffixes). */
const familyBlock = fc
  .tuple(
    fc.constantFrom(...names),
    fc.option(fc.constantFrom(...helps), { nil: undefined }),
    fc.option(fc.constantFrom(...types), { nil: undefined }),
    fc.array(
      fc.tuple(fc.constantFrom('', '', '_sum', '_count', '_bucket'), fc.option(labelSet, { nil: undefined }), fc.constantFrom(...values)),
      { maxLength: 5 },
    ),
  )
  .map(([name, help, type, samples]) => [
    ...(help === undefined ? [] : [`# HELP ${name} ${help}`]),
    ...(type === undefined ? [] : [`# TYPE ${name} ${type}`]),
    ...samples.map(([suffix, labels, value]) => `${name}${suffix}${labels === undefined ? '' : `{${labels}}`} ${value}`),
  ]);
/** Nearly valid families: where the fast path decides alone, so where a slip of its own would show. */
export const nearlyValidBlock = fc
  .tuple(
    fc.constantFrom('a', 'b_total', 'c:d'),
    fc.constantFrom('counter', 'gauge', 'untyped', undefined),
    fc.array(
      fc.tuple(
        fc.uniqueArray(fc.tuple(fc.constantFrom('x', 'y', 'job'), fc.constantFrom('', '1', 'v', 'a\\"b', 'a\\nb')), {
          maxLength: 3,
          selector: ([key]) => key,
        }),
        fc.constantFrom('1', '-1', '0', '-0', '2.50', '0.25', '-0.5', '1e3', 'NaN', '+Inf', '-Inf', '123456789012345678', '0.0000001'),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([name, type, samples]) => [
    `# HELP ${name} Help \\\\ of ${name}.`,
    ...(type === undefined ? [] : [`# TYPE ${name} ${type}`]),
    ...samples.map(
      ([pairs, value]) => `${name}${pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`} ${value}`,
    ),
  ]);
const line = fc.oneof({ weight: 3, arbitrary: sampleLine }, { weight: 1, arbitrary: commentLine });
const lines = fc.oneof(
  fc.tuple(fc.array(line, { maxLength: 14 }), fc.boolean()),
  fc.tuple(
    fc.array(familyBlock, { maxLength: 4 }).map((blocks) => blocks.flat()),
    fc.boolean(),
  ),
  fc.tuple(
    fc.uniqueArray(nearlyValidBlock, { maxLength: 3, selector: (block) => block[0] }).map((blocks) => blocks.flat()),
    fc.constant(true),
  ),
);
export const documentText = lines.map(([list, finalNewline]) => list.join('\n') + (finalNewline && list.length > 0 ? '\n' : ''));

/** Canonical documents: the fast path must take them without help. */
export const canonicalDocument = fc
  .uniqueArray(fc.constantFrom('a', 'b_total', 'c', 'd:e'), { minLength: 1, maxLength: 4 })
  .chain((families) =>
    fc.tuple(
      ...families.map((name) =>
        fc
          .uniqueArray(fc.tuple(fc.constantFrom('1', '2', 'v'), fc.constantFrom('0', '1', '2.5', '100')), {
            minLength: 1,
            maxLength: 5,
            selector: ([instance]) => instance,
          })
          .map((series) => {
            const type = name.endsWith('_total') ? 'counter' : 'gauge';
            const lines = series.map(([instance, value]) => `${name}{instance="${instance}",job="j"} ${value}\n`);
            return `# HELP ${name} Help of ${name}.\n# TYPE ${name} ${type}\n${lines.join('')}`;
          }),
      ),
    ),
  )
  .map((parts) => parts.join(''));

/** The peer corpus lives beside the checkout (../shared), or beside the worktrees' parent. */
export const PEERS =
  process.env['PROMFILE_PEER_CASES'] ??
  [join(ROOT, '..', 'shared', 'peer-cases'), join(ROOT, '..', '..', 'shared', 'peer-cases')].find((path) => existsSync(path)) ??
  join(ROOT, '..', 'shared', 'peer-cases');

/** Whether the peer corpus is here (under CI it must be: a test that needs it then fails rather than skips). */
export const HAVE_PEERS = existsSync(PEERS) || process.env['CI'] === 'true';

/** Every .prom file of the peer corpus: its case, its name and its bytes. */
export function* peerFiles(): Generator<{ caseDir: string; file: string; bytes: Buffer }> {
  for (const caseDir of readdirSync(PEERS)) {
    const path = join(PEERS, caseDir);
    if (!existsSync(join(path, 'CASE'))) continue;
    for (const file of readdirSync(path).filter((name) => name.endsWith('.prom')))
      yield { caseDir, file, bytes: readFileSync(join(path, file)) };
  }
}
