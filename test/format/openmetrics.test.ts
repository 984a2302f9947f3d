// OpenMetrics in front of the one grammar: the converter hands on text-format
// lines (one per input line) and counts what it drops; the detector refuses
// OpenMetrics when no conversion was asked for. Both are fed in chunks of
// every size, as stdin arrives.
import { describe, expect, it } from 'vitest';
import { ExpositionError } from '../../src/errors.js';
import { NameEscaper } from '../../src/format/name-escaping.js';
import { OpenMetricsConverter, OpenMetricsDetector } from '../../src/format/openmetrics.js';
import { parseExposition } from '../../src/format/parse.js';

async function* chunks(text: string | Buffer, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const out: Uint8Array[] = [];
  for await (const chunk of stream) out.push(chunk);
  return Buffer.concat(out).toString();
}

async function converted(text: string, size = 4): Promise<{ text: string; notices: string[] }> {
  const converter = new OpenMetricsConverter('<stdin>');
  const out = await collect(converter.convert(chunks(text, size)));
  return { text: out, notices: converter.notices().map((notice) => `line ${notice.line}: ${notice.message}`) };
}

// OpenMetrics 1.0 as the specification writes it: metadata in any order, UNIT, _created, exemplars, info, stateset, unknown.
const OPENMETRICS = [
  '# HELP jobs Jobs "done" \\"quoted\\" \\\\ end.',
  '# TYPE jobs counter',
  '# UNIT jobs jobs',
  'jobs_total{kind="a"} 3 # {trace_id="abc"} 1 1520879602.123',
  'jobs_created{kind="a"} 1520430000.123',
  '# TYPE build info',
  'build_info{version="1.2"} 1',
  '# TYPE mode stateset',
  'mode{mode="on"} 1',
  'mode{mode="off"} 0',
  '# TYPE other unknown',
  'other 7',
  '# TYPE latency histogram',
  'latency_bucket{le="0.5"} 1 # {trace_id="x"} 0.3',
  'latency_bucket{le="+Inf"} 2',
  'latency_count 2',
  'latency_sum 1.3',
  'latency_created 1520430000',
  '# EOF',
  '',
].join('\n');

describe('OpenMetricsConverter', () => {
  it.each([1, 3, 4096])('converts to the text format, a line for a line (chunks of %i bytes)', async (size) => {
    const { text } = await converted(OPENMETRICS, size);
    expect(text.split('\n')).toEqual([
      '# HELP jobs_total Jobs "done" "quoted" \\\\ end.',
      '# TYPE jobs_total counter',
      '# UNIT jobs jobs',
      'jobs_total{kind="a"} 3',
      '',
      '# TYPE build_info gauge',
      'build_info{version="1.2"} 1',
      '# TYPE mode gauge',
      'mode{mode="on"} 1',
      'mode{mode="off"} 0',
      '# TYPE other untyped',
      'other 7',
      '# TYPE latency histogram',
      'latency_bucket{le="0.5"} 1',
      'latency_bucket{le="+Inf"} 2',
      'latency_count 2',
      'latency_sum 1.3',
      '',
      '# EOF',
      '',
    ]);
  });

  it('says what it dropped: a line per kind, with the first line and the count', async () => {
    expect((await converted(OPENMETRICS)).notices).toEqual([
      'line 3: OpenMetrics input: dropped 1 "# UNIT" line (the text format has no units)',
      'line 4: OpenMetrics input: dropped 2 exemplars, the first here (the text format has none)',
      'line 5: OpenMetrics input: dropped 2 _created samples, the first here (the text format has no creation time)',
    ]);
  });

  it('gives the one grammar families as Prometheus ingests them', async () => {
    const families = parseExposition((await converted(OPENMETRICS)).text);
    expect(families.map((family) => [family.name, family.type, family.samples.length])).toEqual([
      ['build_info', 'gauge', 1],
      ['jobs_total', 'counter', 1],
      ['latency', 'histogram', 4],
      ['mode', 'gauge', 2],
      ['other', 'untyped', 1],
    ]);
    expect(families.find((family) => family.name === 'jobs_total')?.help).toBe('Jobs "done" "quoted" \\ end.');
  });

  it('finds the type when HELP comes first, and keeps a name that has the suffix already', async () => {
    const { text } = await converted('# HELP c_total C.\n# TYPE c_total counter\nc_total 1\n# EOF\n');
    expect(text).toBe('# HELP c_total C.\n# TYPE c_total counter\nc_total 1\n# EOF\n');
  });

  it('makes timestamps milliseconds, for the grammar to refuse or (stripTimestamps) drop', async () => {
    const { text } = await converted('# TYPE g gauge\ng 1 1520879607.789\ng{a="b"} 2 1520879607 # {x="y"} 1\n# EOF\n');
    expect(text).toBe('# TYPE g gauge\ng 1 1520879607789\ng{a="b"} 2 1520879607000\n# EOF\n');
    expect(() => parseExposition(text)).toThrow(/timestamp/);
    expect(parseExposition(text, { stripTimestamps: true })[0]?.samples.length).toBe(2);
  });

  it('keeps _created where it is no creation time (a gauge of that name)', async () => {
    const { text, notices } = await converted('# TYPE x_created gauge\nx_created 5\n# EOF\n');
    expect(text).toBe('# TYPE x_created gauge\nx_created 5\n# EOF\n');
    expect(notices).toEqual([]);
  });

  it('hands gaugehistogram and what it cannot read on unchanged, for the grammar to judge', async () => {
    const input = '# TYPE g gaugehistogram\ng_bucket{le="+Inf"} 1\ng_gcount 1\ng_gsum 1\nm{a="b" 1\n# EOF\n';
    expect((await converted(input)).text).toBe(input);
  });

  it('composes with the name escaper: quoted OpenMetrics names get the suffix, then the scheme', async () => {
    const input =
      '# HELP "my.counter" Count.\n# TYPE "my.counter" counter\n{"my.counter_total","a.b"="x"} 1\n{"my.counter_created"} 1\n# EOF\n';
    const escaper = new NameEscaper('values');
    const out = await collect(escaper.convert(new OpenMetricsConverter().convert(chunks(input, 3))));
    expect(out).toBe(
      '# HELP U__my_2e_counter__total Count.\n# TYPE U__my_2e_counter__total counter\nU__my_2e_counter__total{U__a_2e_b="x"} 1\n\n# EOF\n',
    );
  });

  it('refuses input without "# EOF" (cut off), and text after it', async () => {
    await expect(converted('# TYPE g gauge\ng 1\n')).rejects.toThrow(/ends without "# EOF".*truncated/);
    await expect(converted('g 1\n# EOF\ng 2\n')).rejects.toSatisfy(
      (error) => error instanceof ExpositionError && error.line === 3 && /after "# EOF" \(line 2\)/.test(error.message),
    );
    expect((await converted('# EOF')).text).toBe('# EOF\n');
  });
});

async function detected(text: string | Buffer, size: number): Promise<string> {
  return collect(new OpenMetricsDetector('<stdin>').watch(chunks(text, size)));
}

describe('OpenMetricsDetector', () => {
  it.each([1, 5, 4096])('refuses input that ends with "# EOF", cut by chunks anywhere (chunks of %i bytes)', async (size) => {
    for (const text of ['a 1\n# EOF\n', '# EOF', 'a 1\n# EOF\n\n  \n', '# TYPE a counter\na_total 1\n# EOF\n'])
      await expect(detected(text, size), JSON.stringify(text)).rejects.toSatisfy(
        (error) => error instanceof ExpositionError && error.problem.rule === 'openmetrics' && /ends with "# EOF"/.test(error.message),
      );
  });

  it.each([1, 7, 4096])('hands text-format input on unchanged (chunks of %i bytes)', async (size) => {
    for (const text of [
      '# HELP a mentions # EOF\n# TYPE a gauge\na{x="\\n# EOF"} 1\n# EOF here\n',
      '# EOF\na 1\n',
      'a{x="\n# EOF"} 1\n',
      '',
    ])
      expect(await detected(text, size)).toBe(text);
  });
});
