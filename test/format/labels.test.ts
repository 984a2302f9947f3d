// The label-set grammar both readers share: the same steps on a line's
// characters and on its bytes, and the steps node_exporter's syntax implies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabelReader, LabelStep } from '../../src/format/labels.js';

interface Walked {
  steps: LabelStep[];
  labels: Array<[string, string]>;
  blanks: boolean;
}

/** Every step through the label set at the start of `line`, and the labels found. */
function walk(line: string | Buffer): Walked {
  const reader = new LabelReader();
  const text = typeof line === 'string' ? line : line.toString('latin1');
  const walked: Walked = { steps: [], labels: [], blanks: false };
  reader.start(0);
  for (;;) {
    const step = reader.next(line, line.length);
    walked.steps.push(step);
    walked.blanks ||= reader.blanks;
    if (step !== LabelStep.Label && step !== LabelStep.LastLabel) return walked;
    walked.labels.push([text.slice(reader.nameStart, reader.nameEnd), text.slice(reader.valueStart, reader.valueEnd)]);
    if (step === LabelStep.LastLabel) return walked;
  }
}

describe('LabelReader', () => {
  it.each([
    [
      '{a="1",b="2"} 3',
      [LabelStep.Label, LabelStep.LastLabel],
      [
        ['a', '1'],
        ['b', '2'],
      ],
      false,
    ],
    [
      '{ a = "1" ,\tb="x\\"y", } 3',
      [LabelStep.Label, LabelStep.Label, LabelStep.Close],
      [
        ['a', '1'],
        ['b', 'x\\"y'],
      ],
      true,
    ],
    ['{} 1', [LabelStep.Close], [], false],
    ['{"q.x"="1"}', [LabelStep.LastLabel], [['"q.x"', '1']], false],
    ['{a="1"', [LabelStep.NoSeparator], [], false],
    ['{a="1",', [LabelStep.Label, LabelStep.EndOfLine], [['a', '1']], false],
    ['{1="x"}', [LabelStep.NoName], [], false],
    ['{a:b="x"}', [LabelStep.NoEquals], [], false],
    ['{a=x}', [LabelStep.NoQuote], [], false],
    ['{a="\\t"}', [LabelStep.BadValue], [], false],
    ['{a="x}', [LabelStep.BadValue], [], false],
    ['{a="x" b="y"}', [LabelStep.NoSeparator], [], true],
  ] as const)('%j', (line, steps, labels, blanks) => {
    const walked = walk(line);
    expect(walked.steps).toEqual(steps);
    expect(walked.labels).toEqual(labels);
    expect(walked.blanks).toBe(blanks);
  });

  it('takes the same steps on a line and on its bytes', () => {
    const piece = fc.constantFrom('{', '}', ',', '=', '"', '\\', '\\"', '\\n', '\\t', ' ', '\t', 'a', 'le', '_x', '1', '.');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (pieces) => {
        const line = `{${pieces.join('')}`;
        expect(walk(Buffer.from(line, 'latin1'))).toEqual(walk(line));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a value with a NUL on bytes and on text, and says so on bytes (never copied as canonical)', () => {
    expect(walk(Buffer.from('{a="x\u0000"}')).steps).toEqual([LabelStep.LastLabel]);
    expect(walk('{a="x\u0000"}').steps).toEqual([LabelStep.LastLabel]);
    const reader = new LabelReader();
    reader.start(0);
    reader.next(Buffer.from('{a="x\u0000"}'), 9);
    expect(reader.nul).toBe(true);
    reader.start(0);
    reader.next(Buffer.from('{a="xy"}'), 8);
    expect(reader.nul).toBe(false);
  });

  it('never reads past the end of the line it is given', () => {
    const bytes = Buffer.from('{a="1"} 2\n{b="');
    const reader = new LabelReader();
    reader.start(10);
    expect(reader.next(bytes, bytes.length)).toBe(LabelStep.BadValue);
    reader.start(0);
    expect(reader.next(bytes, 5)).toBe(LabelStep.BadValue);
  });
});
