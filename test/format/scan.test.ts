import { describe, expect, it } from 'vitest';
import { describeByte, LineCursor, ScanError, unescapeHelp } from '../../src/format/scan.js';

const describeChar = (text: string, pos: number): string => describeByte(Buffer.from(text), pos, Buffer.byteLength(text));

const labelsOf = (text: string): Record<string, string> => new LineCursor(text).readLabels('m', false);

describe('LineCursor', () => {
  it('reads legacy metric names, and nothing where none starts', () => {
    const cursor = new LineCursor('a:b_1{x="1"} 2');
    expect(cursor.readMetricName()).toBe('a:b_1');
    expect(new LineCursor('1abc').readMetricName()).toBe('');
  });

  it('reads labels with blanks around names, = and values, and a trailing comma', () => {
    expect(labelsOf('{ a = "1" ,\tb="2", }')).toEqual({ a: '1', b: '2' });
    expect(labelsOf('{}')).toEqual({});
  });

  it('unescapes \\\\, \\" and \\n in label values, and refuses other escapes', () => {
    expect(labelsOf('{v="a\\\\b\\"c\\nd"}')).toEqual({ v: 'a\\b"c\nd' });
    expect(() => labelsOf('{v="a\\tb"}')).toThrow(/invalid escape sequence '\\t'/);
  });

  it.each([
    ['{a="1",a="2"}', /duplicate label name "a"/],
    ['{__name__="x"}', /"__name__" is reserved/],
    ['{"a"="1"}', /label name "a" is quoted/],
    ['{a="1" b="2"}', /after the value of label "a"/],
    ['{a="1"', /unexpected end of line/],
    ['{a=1}', /expected '"' at start of the value of label "a"/],
    ['{a="1}', /lacks its closing quote/],
  ])('refuses %s', (text, message) => {
    expect(() => labelsOf(text)).toThrow(ScanError);
    expect(() => labelsOf(text)).toThrow(message);
  });

  it('a value cut by the end of the input says so', () => {
    expect(() => new LineCursor('{a="1').readLabels('m', true)).toThrow(/unexpected end of input inside a label value/);
  });

  it('shares repeated label names and values between lines of one file', () => {
    const shared = new Map<string, string>();
    const first = new LineCursor(`{host="${'h'.repeat(3)}"}`, shared).readLabels('m', false);
    const second = new LineCursor(`{host="${'h'.repeat(3)}"}`, shared).readLabels('m', false);
    expect(second).toEqual(first);
    expect(shared.has('host') && shared.has('hhh')).toBe(true);
  });

  it('splits tokens on blanks and reads the rest of the line', () => {
    const cursor = new LineCursor('12 34  rest of it');
    expect(cursor.readToken()).toBe('12');
    cursor.skipBlanks();
    expect(cursor.readToken()).toBe('34');
    cursor.skipBlanks();
    expect(cursor.rest()).toBe('rest of it');
    expect(cursor.done).toBe(true);
  });
});

describe('HELP text and messages', () => {
  it('unescapes \\\\ and \\n only', () => {
    expect(unescapeHelp('a\\\\b\\nc "d"')).toBe('a\\b\nc "d"');
    expect(() => unescapeHelp('a\\t')).toThrow(/invalid escape sequence/);
    // \" is read by node_exporter 1.9 only: refused unless the caller says every version reads it.
    expect(() => unescapeHelp('a\\"')).toThrow(/escape sequence '\\"' in HELP text/);
    expect(unescapeHelp('a\\"', null)).toBe('a"');
    expect(() => unescapeHelp('a\\')).toThrow(/lone backslash/);
  });

  it('names the character at a position, CR and the end of line in words', () => {
    expect(describeChar('a\r', 1)).toBe('a carriage return (CRLF line ending)');
    expect(describeChar('a', 1)).toBe('end of line');
    expect(describeChar('a;', 1)).toBe('";"');
  });
});
