// The lexical rules both readers share: names read the same on characters
// and on bytes, and as node_exporter's legacy-name patterns define them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  helpEscape,
  isLabelName,
  isMetricName,
  labelValueEscape,
  nameEnd,
  NameKind,
  readDirective,
  typeWord,
} from '../../src/format/lex.js';

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Name characters, their neighbours in ASCII, and characters whose low byte is a letter ('Ł' is U+0141). */
const nameish = fc.string({ unit: fc.constantFrom(...'aZ_:09-.{ "\u0141\u0101é'), maxLength: 8 });

describe('names', () => {
  it('are the legacy patterns', () => {
    fc.assert(
      fc.property(nameish, (name) => {
        expect(isMetricName(name)).toBe(METRIC.test(name));
        expect(isLabelName(name)).toBe(LABEL.test(name));
      }),
    );
  });

  it('end at the same place on a line and on its bytes', () => {
    fc.assert(
      fc.property(nameish, fc.constantFrom(NameKind.Metric, NameKind.Label), (text, kind) => {
        const ascii = [...text].every((char) => char.charCodeAt(0) < 128);
        const bytes = Buffer.from(text, 'latin1');
        if (ascii) expect(nameEnd(bytes, 0, bytes.length, kind)).toBe(nameEnd(text, 0, text.length, kind));
        const end = nameEnd(text, 0, text.length, kind);
        expect((kind === NameKind.Metric ? METRIC : LABEL).test(text.slice(0, end)) || end === 0).toBe(true);
      }),
    );
    expect(nameEnd('a:b{', 0, 4, NameKind.Metric)).toBe(3);
    expect(nameEnd('a:b{', 0, 4, NameKind.Label)).toBe(1);
    expect(nameEnd('\u0141x', 0, 2, NameKind.Metric)).toBe(0);
  });
});

describe('escapes', () => {
  it('in label values: \\\\, \\" and \\n only', () => {
    const read = [...'\\"ntr0x'].map((char) => labelValueEscape(char.charCodeAt(0)));
    expect(read).toEqual(['\\', '"', '\n', undefined, undefined, undefined, undefined]);
  });

  it('in HELP: \\\\ and \\n, and \\" only where the profile reads it', () => {
    expect(helpEscape('\\'.charCodeAt(0), false)).toBe('\\');
    expect(helpEscape('n'.charCodeAt(0), false)).toBe('\n');
    expect(helpEscape('"'.charCodeAt(0), false)).toBeUndefined();
    expect(helpEscape('"'.charCodeAt(0), true)).toBe('"');
    expect(helpEscape('t'.charCodeAt(0), true)).toBeUndefined();
  });
});

describe('TYPE words', () => {
  it.each([
    ['counter', 'counter'],
    ['GAUGE', 'gauge'],
    ['Untyped', 'untyped'],
    ['gauge_histogram', 'gauge_histogram'],
    ['gaugehistogram', undefined],
    ['info', undefined],
    ['gauge ', undefined],
  ])('%j is %j', (word, type) => {
    expect(typeWord(word)).toBe(type);
  });
});

describe('HELP and TYPE lines', () => {
  const read = (line: string): [string, string] | 'comment' | 'quoted' => {
    const directive = readDirective(line, 1, line.length);
    const bytes = readDirective(Buffer.from(line), 1, line.length);
    expect(bytes).toEqual(directive);
    if (directive === undefined) return 'comment';
    if (directive.nameEnd === -1) return 'quoted';
    return [directive.help ? 'HELP' : 'TYPE', line.slice(directive.nameStart, directive.nameEnd)];
  };

  it.each([
    ['# HELP m text', ['HELP', 'm']],
    ['#\tTYPE \t m_1:x gauge', ['TYPE', 'm_1:x']],
    ['# TYPE m\t', ['TYPE', 'm']],
    ['# HELP 1m x', ['HELP', '']],
    ['# HELP m-x y', ['HELP', 'm']],
    ['# HELP "m" x', 'quoted'],
    ['# HELP m', 'comment'],
    ['# HELP ', 'comment'],
    ['# HELP', 'comment'],
    ['# help m x', 'comment'],
    ['# HELPS m x', 'comment'],
    ['# UNIT m s', 'comment'],
    ['#', 'comment'],
  ] as const)('%j', (line, expected) => {
    expect(read(line)).toEqual(expected);
  });

  it('never reads past the end it is given', () => {
    const bytes = Buffer.from('# HELP "x" y');
    expect(readDirective(bytes, 1, 7)).toBeUndefined();
    expect(readDirective(bytes, 1, 8)).toEqual({ help: true, nameStart: 7, nameEnd: -1 });
  });
});
