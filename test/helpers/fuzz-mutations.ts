// Token-level mutations of textfiles, for the differential fuzzer: names,
// escapes, values, whitespace, comments, HELP/TYPE order, shapes and a second
// file that conflicts with the first. Everything is drawn from one seeded
// generator, so a case is its seed and index. Text is handled as latin1 (one
// char per byte), so the corpus's invalid UTF-8 survives; UTF-8 in the pools
// goes through `utf8`.

/** A seeded generator (mulberry32): floats in [0, 1). */
export type Random = () => number;

export function seeded(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator of case `index` under `seed`: each case replays alone. */
export function caseRandom(seed: number, index: number): Random {
  const mixed = seeded((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  mixed();
  return mixed;
}

export function below(random: Random, n: number): number {
  return Math.floor(random() * n);
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[below(random, items.length)] as T;
}

/** UTF-8 text as latin1 chars (one per byte). */
function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

const NAMES = [
  'a',
  'a_total',
  'h',
  'h_bucket',
  'h_sum',
  'h_count',
  's',
  'x:y',
  '_a',
  '1a',
  'a-b',
  'A',
  'go_threads',
  'a_created',
  'a_gsum',
];
const QUOTED_NAMES = ['"a"', '"a.b"', '"new\\nline"', `"${utf8('é')}"`, '""', '"__name__"'];
const SUFFIXES = ['_total', '_sum', '_count', '_bucket', '_created', '_gsum', '_gcount', '_info', 'x'];
const LABEL_NAMES = ['le', 'quantile', '__x', '"a.b"', '"x"', 'x', 'job', '1x', '__name__', 'y'];
const LABEL_VALUES = ['', '+Inf', '1', '0.5', 'NaN', '\\\\', '\\"', '\\n', '\\t', utf8('é'), 'x y', '\\', '-Inf', '1e3', 'Inf', '1.0'];
const VALUES = [
  '1',
  '0',
  '-0',
  '1.5',
  '-1',
  '1e19',
  '2e19',
  'NaN',
  '+Inf',
  '-Inf',
  'Inf',
  '0x1',
  '1_0',
  '',
  '.5',
  '1.',
  '+1',
  '4611686018427387904',
  '1e-400',
  'nan',
  '1 2',
  '1 -2',
];
const TYPE_WORDS = [
  'counter',
  'gauge',
  'untyped',
  'histogram',
  'summary',
  'gauge_histogram',
  'gaugehistogram',
  'GAUGE',
  'Counter',
  'info',
  'stateset',
  'unknown',
  '',
];
const HELP_TEXTS = [
  'x',
  '',
  'with \\\\ backslash',
  'with \\n newline',
  'with \\" quote',
  'bad \\t',
  'trailing \\',
  utf8('é日'),
  ' lead',
  'a  b',
];
const COMMENTS = [
  '# x',
  '#',
  '#HELP a b',
  '# HELP',
  '# TYPE a',
  '# EOF',
  '# UNIT a seconds',
  '  # indented',
  '# HELP a x',
  '# TYPE a gauge',
];
const LES = ['1', '+Inf', 'Inf', 'NaN', '-1', '1.0', 'x', '', '0.5'];

/** A sample line's parts: name, label text (without braces), the rest after the labels. */
const SAMPLE = /^([^\s{#]*)(?:\{([^}]*)\})?([ \t]+)(\S*)(.*)$/;
const DIRECTIVE = /^# (HELP|TYPE) (\S+)(?: (.*))?$/;

type Lines = string[];
/** A mutation: changes lines in place; returns false when it found nothing to change. */
type Mutation = (lines: Lines, random: Random) => boolean;

function sampleIndexes(lines: Lines): number[] {
  return lines.flatMap((line, index) => (SAMPLE.test(line) && !line.startsWith('#') && line !== '' ? [index] : []));
}

function directiveIndexes(lines: Lines, keyword?: string): number[] {
  return lines.flatMap((line, index) => {
    const match = DIRECTIVE.exec(line);
    return match && (keyword === undefined || match[1] === keyword) ? [index] : [];
  });
}

/** Rewrite one random sample line through `change(name, labels, space, value, rest)`. */
function onSample(lines: Lines, random: Random, change: (parts: string[]) => string | undefined): boolean {
  const indexes = sampleIndexes(lines);
  if (indexes.length === 0) return false;
  const index = pick(random, indexes);
  const match = SAMPLE.exec(lines[index] as string) as RegExpExecArray;
  const parts = [match[1] ?? '', match[2] ?? '', match[3] ?? '', match[4] ?? '', match[5] ?? ''];
  const hadLabels = match[2] !== undefined;
  const changed = change(parts);
  if (changed !== undefined) lines[index] = changed;
  else lines[index] = `${parts[0]}${hadLabels || parts[1] !== '' ? `{${parts[1]}}` : ''}${parts[2]}${parts[3]}${parts[4]}`;
  return true;
}

function splitLabels(text: string): string[] {
  return text === '' ? [] : (text.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []);
}

function onDirective(lines: Lines, random: Random, keyword: string, change: (name: string, rest: string) => string): boolean {
  const indexes = directiveIndexes(lines, keyword);
  if (indexes.length === 0) return false;
  const index = pick(random, indexes);
  const match = DIRECTIVE.exec(lines[index] as string) as RegExpExecArray;
  lines[index] = `# ${keyword} ${change(match[2] ?? '', match[3] ?? '')}`;
  return true;
}

const renameFamily: Mutation = (lines, random) => {
  const all = [...sampleIndexes(lines), ...directiveIndexes(lines)];
  if (all.length === 0) return false;
  const line = lines[pick(random, all)] as string;
  const old = line.startsWith('#') ? (DIRECTIVE.exec(line)?.[2] ?? '') : (SAMPLE.exec(line)?.[1] ?? '');
  if (old === '') return false;
  const fresh = random() < 0.5 ? `${old}${pick(random, SUFFIXES)}` : pick(random, [...NAMES, ...QUOTED_NAMES]);
  // Only this line, or every line of the name (the family moves whole).
  const every = random() < 0.5;
  let done = false;
  for (let i = 0; i < lines.length; i++) {
    if (!every && done) break;
    const current = lines[i] as string;
    if (current === line || (every && (current.startsWith(`${old}{`) || current.startsWith(`${old} `) || current.endsWith(` ${old}`)))) {
      lines[i] = current.startsWith('#') ? current.replace(/^(# (?:HELP|TYPE) )\S+/, `$1${fresh}`) : `${fresh}${current.slice(old.length)}`;
      done = true;
    }
  }
  return done;
};

/** `name{l="v"} 1` → `{"name",l="v"} 1` or `"name"{l="v"} 1`. */
const quoteName: Mutation = (lines, random) =>
  onSample(lines, random, ([name, labels, space, value, rest]) => {
    if (name === '') return undefined;
    const inside = random() < 0.5;
    const quoted = name?.startsWith('"') ? name : `"${name}"`;
    if (inside) return `{${[quoted, ...splitLabels(labels ?? '')].join(',')}}${space}${value}${rest}`;
    return `${quoted}${labels ? `{${labels}}` : ''}${space}${value}${rest}`;
  });

const labelName: Mutation = (lines, random) =>
  onSample(lines, random, (parts) => {
    const labels = splitLabels(parts[1] ?? '');
    if (labels.length === 0) labels.push(`${pick(random, LABEL_NAMES)}="${pick(random, LABEL_VALUES)}"`);
    else {
      const i = below(random, labels.length);
      labels[i] = (labels[i] as string).replace(/^\s*(?:"(?:[^"\\]|\\.)*"|[^=]*)/, pick(random, LABEL_NAMES));
    }
    parts[1] = labels.join(',');
    return undefined;
  });

const labelValue: Mutation = (lines, random) =>
  onSample(lines, random, (parts) => {
    const labels = splitLabels(parts[1] ?? '');
    const value = pick(random, LABEL_VALUES);
    if (labels.length === 0 || random() < 0.3) labels.push(`${pick(random, LABEL_NAMES)}="${value}"`);
    else {
      const i = below(random, labels.length);
      labels[i] = (labels[i] as string).replace(/=\s*"(?:[^"\\]|\\.)*"?/, `="${value}"`);
    }
    parts[1] = labels.join(',');
    return undefined;
  });

const dropLabels: Mutation = (lines, random) =>
  onSample(lines, random, (parts) => {
    const labels = splitLabels(parts[1] ?? '');
    labels.splice(below(random, labels.length + 1), 1);
    parts[1] = labels.join(',');
    return labels.length === 0 ? `${parts[0]}${parts[2]}${parts[3]}${parts[4]}` : undefined;
  });

const value: Mutation = (lines, random) =>
  onSample(lines, random, (parts) => {
    parts[3] = pick(random, VALUES);
    return undefined;
  });

const timestamp: Mutation = (lines, random) =>
  onSample(lines, random, (parts) => {
    parts[4] = pick(random, [' 1700000000000', ' -1', ' 1.5', '', ' 1 2']);
    return undefined;
  });

/** Blanks where the grammar allows them, or not: doubled, tabs, leading, trailing, CR, inside braces. */
const whitespace: Mutation = (lines, random) => {
  if (lines.length === 0) return false;
  const index = below(random, lines.length);
  const line = lines[index] as string;
  const where = below(random, 9);
  const at = (pattern: RegExp, by: string): string => line.replace(pattern, by);
  lines[index] = [
    at(/ /, '  '),
    at(/ /, '\t'),
    ` ${line}`,
    `${line} `,
    `${line}\r`,
    at(/\{/, '{ '),
    at(/\}/, ' }'),
    at(/,/, ', '),
    at(/\}/, ',}'),
  ][where] as string;
  return lines[index] !== line;
};

const insertComment: Mutation = (lines, random) => {
  lines.splice(below(random, lines.length + 1), 0, pick(random, COMMENTS));
  return true;
};

const helpText: Mutation = (lines, random) => onDirective(lines, random, 'HELP', (name) => `${name} ${pick(random, HELP_TEXTS)}`);

const typeWord: Mutation = (lines, random) => {
  if (directiveIndexes(lines, 'TYPE').length === 0 || random() < 0.3) {
    const name = SAMPLE.exec(lines[pick(random, sampleIndexes(lines).concat([-1]))] ?? '')?.[1] || pick(random, NAMES);
    lines.splice(below(random, lines.length + 1), 0, `# TYPE ${name.replace(/_(?:bucket|sum|count)$/, '')} ${pick(random, TYPE_WORDS)}`);
    return true;
  }
  return onDirective(lines, random, 'TYPE', (name) => `${name} ${pick(random, TYPE_WORDS)}`);
};

/** HELP/TYPE order: a directive moves (after its samples, to the end, before the other), or is dropped or doubled. */
const directiveOrder: Mutation = (lines, random) => {
  const indexes = directiveIndexes(lines);
  if (indexes.length === 0) return false;
  const index = pick(random, indexes);
  const [line] = lines.splice(index, 1) as [string];
  const how = below(random, 4);
  if (how === 0) lines.splice(Math.min(lines.length, index + 1 + below(random, 3)), 0, line);
  else if (how === 1) lines.splice(Math.max(0, index - 1), 0, line);
  else if (how === 2) lines.splice(index, 0, line, line);
  return true;
};

const lineEdit: Mutation = (lines, random) => {
  if (lines.length === 0) return false;
  const index = below(random, lines.length);
  const how = below(random, 4);
  if (how === 0) lines.splice(index, 1);
  else if (how === 1) lines.splice(index, 0, lines[index] as string);
  else if (how === 2) lines.splice(index, 0, '');
  else if (index + 1 < lines.length) [lines[index], lines[index + 1]] = [lines[index + 1] as string, lines[index] as string];
  return true;
};

/** Histogram and summary shapes: a bound changes or goes, a bucket or _sum/_count goes, a count turns fractional. */
const shape: Mutation = (lines, random) => {
  const bounded = lines.flatMap((line, index) => (/[{,]\s*(?:le|quantile)="/.test(line) && !line.startsWith('#') ? [index] : []));
  const counts = lines.flatMap((line, index) => (/^[^#\s{]+_(?:count|sum)[\s{]/.test(line) ? [index] : []));
  const how = below(random, 4);
  if (how === 0 && bounded.length > 0) {
    const index = pick(random, bounded);
    lines[index] = (lines[index] as string).replace(/((?:le|quantile)=")(?:[^"\\]|\\.)*"/, `$1${pick(random, LES)}"`);
  } else if (how === 1 && bounded.length > 0) lines.splice(pick(random, bounded), 1);
  else if (how === 2 && counts.length > 0) lines.splice(pick(random, counts), 1);
  else if (bounded.length + counts.length > 0) {
    const index = pick(random, [...bounded, ...counts]);
    lines[index] = (lines[index] as string).replace(/\S+$/, pick(random, ['1.5', '0.5', '2e19', '1e19', '-1', 'NaN', '+Inf']));
  } else return false;
  return true;
};

export const MUTATIONS: Readonly<Record<string, Mutation>> = {
  'name:rename': renameFamily,
  'name:quote': quoteName,
  'label:name': labelName,
  'label:value': labelValue,
  'label:drop': dropLabels,
  value,
  timestamp,
  whitespace,
  'comment:insert': insertComment,
  'help:text': helpText,
  'type:word': typeWord,
  'order:directive': directiveOrder,
  'line:edit': lineEdit,
  shape,
};

/** A second file that meets the first: a family of it again, with other HELP, TYPE, labels or the same series. */
export function conflictingFile(lines: readonly string[], random: Random): { lines: string[]; how: string } {
  const samples = sampleIndexes([...lines]);
  const line = samples.length === 0 ? 'a 1' : (lines[pick(random, samples)] as string);
  const name = SAMPLE.exec(line)?.[1] ?? 'a';
  const family = name.replace(/_(?:bucket|sum|count)$/, '');
  const directives = lines.filter((l) => DIRECTIVE.exec(l)?.[2] === family);
  const how = pick(random, ['same-series', 'other-help', 'other-type', 'other-labels', 'same-family']);
  const help = directives.find((l) => l.startsWith('# HELP')) ?? `# HELP ${family} x`;
  const type = directives.find((l) => l.startsWith('# TYPE'));
  const body: string[] = {
    'same-series': [...directives, line],
    'other-help': [`# HELP ${family} ${pick(random, HELP_TEXTS)}`, ...(type ? [type] : []), line.replace(/\{/, '{z="2",')],
    'other-type': [help, `# TYPE ${family} ${pick(random, TYPE_WORDS)}`, `${family}{z="3"} 1`],
    'other-labels': [...directives, `${name}{z="4"} 2`],
    'same-family': [...directives, ...lines.filter((l) => SAMPLE.exec(l)?.[1]?.startsWith(family) === true && !l.startsWith('#'))],
  }[how] as string[];
  return { lines: body, how };
}
