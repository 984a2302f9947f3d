// Canonical exposition text: families sorted by name, one HELP and TYPE each,
// histogram and summary series grouped with their buckets or quantiles in
// ascending order, Go-compatible numbers, LF line endings and a final newline.
import { escapeHelp, escapeLabelValue } from './lex.js';
import { formatGoFloat, parseGoFloat } from './number.js';
import { compareNames } from './names.js';
import type { Labels, MetricFamily, Sample } from './types.js';
import { seriesKey, stripLabel } from './validate.js';
import { addedMembers, familyShape, type FamilyShape } from './shape.js';

export { escapeHelp, escapeLabelValue };

export function renderLabels(labels: Labels): string {
  let out = '';
  for (const name in labels) {
    out += `${out === '' ? '{' : ','}${name}="${escapeLabelValue(labels[name] as string)}"`;
  }
  return out === '' ? '' : `${out}}`;
}

export function renderSample(sample: Sample): string {
  return `${sample.name}${renderLabels(sample.labels)} ${formatGoFloat(sample.value)}\n`;
}

/** Render families as canonical exposition text. Families without samples are left out. */
export function renderExposition(families: readonly MetricFamily[]): string {
  // Joined per family, then once: `+=` over a million lines builds a deep rope
  // that V8 must later flatten, and one array of a million live lines makes
  // every young-generation GC copy them; per-family arrays die young.
  return [...renderChunks(families)].join('');
}

/** The same text, one family at a time, for writing without holding the whole file in memory. */
export function* renderChunks(families: readonly MetricFamily[]): Generator<string> {
  const sorted = [...families].sort((a, b) => compareNames(a.name, b.name));
  for (const family of sorted) {
    const text = renderFamily(family);
    if (text !== '') yield text;
  }
}

export function renderFamily(family: MetricFamily): string {
  if (family.samples.length === 0) return '';
  const lines: string[] = [];
  if (family.help) lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}\n`);
  lines.push(`# TYPE ${family.name} ${family.type}\n`);
  const samples = familyShape(family.type) ? orderGrouped(family) : family.samples;
  for (const sample of samples) lines.push(renderSample(sample));
  return lines.join('');
}

/**
 * Group series; within a group: buckets/quantiles ascending, then _sum, _count,
 * anything else. A group that lacks a member node_exporter adds gets it where
 * the group itself says its value (addedMembers), so the file reads as exposed.
 */
function orderGrouped(family: MetricFamily): Sample[] {
  const shape = familyShape(family.type) as FamilyShape;
  const bound = shape.bound;
  const point = `${family.name}${shape.pointSuffix}`;
  const groups = new Map<string, RenderGroup>();
  for (const sample of family.samples) {
    const key = seriesKey('', sample.labels, bound);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { points: [], sum: [], count: [], other: [] }));
    if (sample.name === point && bound in sample.labels) group.points.push(sample);
    else if (sample.name === `${family.name}_sum`) group.sum.push(sample);
    else if (sample.name === `${family.name}_count`) group.count.push(sample);
    else group.other.push(sample);
  }
  const ordered: Sample[] = [];
  for (const group of groups.values()) {
    group.points.sort((a, b) => boundOf(a, bound) - boundOf(b, bound));
    complete(family, group, bound);
    ordered.push(...group.points, ...group.sum, ...group.count, ...group.other);
  }
  return ordered;
}

interface RenderGroup {
  points: Sample[];
  sum: Sample[];
  count: Sample[];
  other: Sample[];
}

/** Add the members node_exporter adds to the group and the group implies. */
function complete(family: MetricFamily, group: RenderGroup, bound: string): void {
  const type = family.type as 'histogram' | 'summary';
  const last = group.points.at(-1);
  const inf = type === 'histogram' && last !== undefined && boundOf(last, 'le') === Infinity ? last.value : undefined;
  const given = { inf, sum: group.sum[0]?.value, count: group.count[0]?.value };
  const labels = stripLabel((group.count[0] ?? group.sum[0] ?? group.points[0] ?? group.other[0])?.labels ?? {}, bound);
  for (const member of addedMembers(type, given)) {
    if (!member.implied) continue;
    const name = `${family.name}${member.suffix}`;
    if (member.suffix === '_bucket') group.points.push({ name, labels: { ...labels, le: '+Inf' }, value: member.value });
    else (member.suffix === '_sum' ? group.sum : group.count).push({ name, labels, value: member.value });
  }
}

function boundOf(sample: Sample, bound: string): number {
  return parseGoFloat(sample.labels[bound] ?? '') ?? NaN;
}
