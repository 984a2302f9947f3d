import { assert, describe, expect, it } from 'vitest';
import { ExpositionError } from '../../src/errors.js';
import { formatGoFloat, parseGoFloat } from '../../src/format/number.js';
import { parseExposition, readExposition } from '../../src/format/parse.js';
import { profileForVersion, type Profile } from '../../src/format/profile.js';
import { renderExposition } from '../../src/format/render.js';
import { fixtureNames, invalidCases, readFixture } from '../helpers/fixtures.js';

describe('golden corpus', () => {
  it.each(fixtureNames('valid'))('valid/%s parses without errors or warnings', (name) => {
    const { families, problems } = readExposition(readFixture('valid', name));
    expect(problems.filter((p) => p.severity !== 'notice')).toEqual([]);
    expect(families.length).toBeGreaterThan(0);
  });

  it.each(fixtureNames('valid'))('valid/%s round-trips: parse(render(x)) equals x, and render is idempotent', (name) => {
    const families = parseExposition(readFixture('valid', name));
    const rendered = renderExposition(families);
    expect(parseExposition(rendered)).toEqual(families);
    expect(renderExposition(parseExposition(rendered))).toBe(rendered);
    expect(rendered.endsWith('\n')).toBe(true);
  });

  it.each(invalidCases())('invalid/%s reports its rule at its line', (name, expected) => {
    const { problems } = readExposition(readFixture('invalid', name));
    const blocking = problems.filter((p) => p.severity !== 'notice');
    expect(blocking.length).toBeGreaterThan(0);
    expect(blocking.map((p) => [p.rule, p.line])).toContainEqual([expected.rule, expected.line]);
    if (expected.nodeExporter === 'rejects-file') {
      expect(blocking.some((p) => p.wholeFile && p.severity === 'error')).toBe(true);
    }
    if (expected.nodeExporter === 'accepts') {
      expect(blocking.every((p) => p.severity === 'warning')).toBe(true);
    }
  });

  it.each(invalidCases().filter(([, c]) => c.write === 'refuses'))('invalid/%s is refused by the strict parser with "line N"', (name) => {
    let thrown: unknown;
    try {
      parseExposition(readFixture('invalid', name));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ExpositionError);
    assert(thrown instanceof ExpositionError);
    const error = thrown;
    expect(error.code).toBe('ERR_INVALID_EXPOSITION');
    expect(error.message).toMatch(/^line \d+: /);
    expect(error.message).not.toContain('\n');
  });
});

describe('values follow Go ParseFloat (with expfmt refusing p, P and _)', () => {
  it.each([
    ['1', 1],
    ['-2.5e3', -2500],
    ['+3.5', 3.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1E+5', 100000],
    ['007', 7],
    ['+Inf', Infinity],
    ['-inf', -Infinity],
    ['Infinity', Infinity],
    ['1e-400', 0],
  ])('accepts %s', (text, value) => {
    expect(parseGoFloat(text)).toBe(value);
  });

  it.each(['NaN', 'nan', 'NAN'])('accepts %s as NaN', (text) => {
    expect(parseGoFloat(text)).toBeNaN();
  });

  it.each(['', '0x10', '0x1p3', '1_000', '0,5', '1e', '.', '+nan', 'infin', '1e400', ' 1', '1 ', 'one', '--1', '1.2.3'])(
    'refuses %j',
    (text) => {
      expect(parseGoFloat(text)).toBeUndefined();
    },
  );

  it.each([
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [-0, '-0'],
    [1.5e-7, '1.5e-7'],
    [1e21, '1e+21'],
    [0.1, '0.1'],
  ])('formats %s as %s, which parses back to the same float', (value, text) => {
    expect(formatGoFloat(value)).toBe(text);
    expect(Object.is(parseGoFloat(text), value)).toBe(true);
  });
});

describe('parser details that match node_exporter', () => {
  it('keeps a label named __proto__ (as an own property), so that the reserved-name rule refuses it', () => {
    expect(() => parseExposition('m{__proto__="x"} 1\n')).toThrow(/label name "__proto__" is reserved/);
  });

  it('assigns _sum/_count/_bucket to a declared histogram or summary, and not otherwise', () => {
    const families = parseExposition(
      '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 2\nh_count 1\n# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 1\ns_count 1\nplain_count 3\n',
    );
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['h', 'histogram', 3],
      ['plain_count', 'untyped', 1],
      ['s', 'summary', 3],
    ]);
  });

  it('keeps HELP unescaped and TYPE case-insensitive', () => {
    const [family] = parseExposition('# HELP m a \\\\ b\\nc\n# TYPE m COUNTER\nm 1\n');
    expect(family).toEqual({ name: 'm', help: 'a \\ b\nc', type: 'counter', samples: [{ name: 'm', labels: {}, value: 1 }] });
  });

  it('treats "# HELP name" without text as no HELP, as node_exporter does', () => {
    const [family] = parseExposition('# HELP m   \nm 1\n');
    expect(family?.help).toBeUndefined();
  });

  it('accepts a value glued to the name (m-1), with a warning', () => {
    const { families, problems } = readExposition('m-1\n');
    expect(families[0]?.samples[0]?.value).toBe(-1);
    expect(problems.map((p) => p.rule)).toEqual(['value-separator']);
  });

  it('drops timestamps only when asked, and says so', () => {
    const text = 'a 1 1700000000000\nb 2\n';
    expect(() => parseExposition(text)).toThrow(/line 1: sample has a timestamp/);
    const notices: string[] = [];
    const families = parseExposition(text, { stripTimestamps: true, onNotice: (p) => notices.push(p.rule) });
    expect(renderExposition(families)).toBe('# TYPE a untyped\na 1\n# TYPE b untyped\nb 2\n');
    expect(notices).toEqual(['timestamp']);
  });

  it('refuses a timestamp that is not an int64', () => {
    expect(() => parseExposition('a 1 99999999999999999999\n')).toThrow(/expected integer as timestamp/);
  });

  it('ignores other comments, # UNIT and # EOF', () => {
    expect(parseExposition('# UNIT a seconds\n# just words\n#\na 1\n# EOF\n')).toHaveLength(1);
  });

  it('accepts trailing blanks without a final newline (nothing left to read)', () => {
    expect(readExposition('a 1\n   ').problems).toEqual([]);
  });

  it('accepts an empty input', () => {
    expect(readExposition('')).toEqual({ families: [], problems: [] });
  });

  it('regroups non-contiguous samples with a notice', () => {
    const { families, problems } = readExposition('a{x="1"} 1\nb 2\na{x="2"} 3\n');
    expect(renderExposition(families)).toBe('# TYPE a untyped\na{x="1"} 1\na{x="2"} 3\n# TYPE b untyped\nb 2\n');
    expect(problems.map((p) => [p.severity, p.rule, p.line])).toEqual([['notice', 'non-contiguous', 3]]);
  });

  it('finds the line of invalid UTF-8 in bytes', () => {
    const bytes = Buffer.concat([Buffer.from('a 1\nb 2\nc{v="'), Buffer.from([0xc3, 0x28]), Buffer.from('"} 1\n')]);
    expect(readExposition(bytes).problems).toMatchObject([{ rule: 'invalid-utf8', line: 3, wholeFile: true }]);
  });
});

describe('renderer', () => {
  it('writes canonical text: sorted families, HELP/TYPE, grouped histogram, escaping', () => {
    const families = parseExposition(
      [
        '# TYPE z gauge',
        'z{path="C:\\\\x",q="\\"",nl="a\\nb"} NaN',
        '# HELP a Histogram: \\\\ and \\n.',
        '# TYPE a histogram',
        'a_count{k="1"} 2',
        'a_bucket{k="1",le="+Inf"} 2',
        'a_sum{k="1"} 0.5',
        'a_bucket{k="1",le="0.1"} 1',
        '',
      ].join('\n'),
    );
    expect(renderExposition(families)).toBe(
      [
        '# HELP a Histogram: \\\\ and \\n.',
        '# TYPE a histogram',
        'a_bucket{k="1",le="0.1"} 1',
        'a_bucket{k="1",le="+Inf"} 2',
        'a_sum{k="1"} 0.5',
        'a_count{k="1"} 2',
        '# TYPE z gauge',
        'z{path="C:\\\\x",q="\\"",nl="a\\nb"} NaN',
        '',
      ].join('\n'),
    );
  });

  it('leaves out families without samples and renders nothing for nothing', () => {
    expect(renderExposition([{ name: 'a', help: 'x', type: 'gauge', samples: [] }])).toBe('');
  });
});

describe('a quoted name that is not a legacy name in HELP or TYPE', () => {
  const only111 = profileForVersion('1.11.1') as Profile;

  it('is judged only when something follows it, as 1.11 does, and the message names who reads it', () => {
    expect(readExposition('ok 1\n# TYPE "a.b"\n', { profile: only111 }).families.map((f) => f.name)).toEqual(['ok']);
    expect(() => parseExposition('ok 1\n# TYPE "a.b" gauge\n', { profile: only111 })).toThrow(
      /^line 2: quoted metric name "a\.b" in a TYPE line is not a legacy name: node_exporter 1\.11 rejects the whole file \(node_exporter 1\.9 reads it\)$/,
    );
  });
});
