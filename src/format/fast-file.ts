// A whole existing file through the byte scanner, for a change that touches
// a few of its families (`set`, `inc`, `unset` into a large file): only the
// families the change names are parsed into objects; every other family
// keeps the canonical bytes the scanner checked, and is copied to the output.
import { FastScanner, type FastBlock, type ScanMode } from './fast-scan.js';
import { familyStub } from './model.js';
import { compareNames } from './names.js';
import { parseExposition, type ReadOptions } from './parse.js';
import { renderFamily } from './render.js';
import { stripMemberSuffix } from './shape.js';
import type { MetricFamily } from './types.js';

/** A family kept as the scanner's checked bytes: its name and type are all a rule across families needs. */
export interface CopiedFamily {
  readonly stub: MetricFamily;
  readonly output: readonly Uint8Array[];
}

/** A file the scanner vouches for alone: its blocks by family name (in file order), and its series count. */
export interface ScannedFile {
  readonly blocks: ReadonlyMap<string, FastBlock>;
  readonly series: number;
}

export interface SplitFile {
  /** The families the change may read or change, parsed, in name order. */
  readonly parsed: MetricFamily[];
  /** The rest, by name. */
  readonly copied: ReadonlyMap<string, CopiedFamily>;
}

/**
 * A file fed to the scanner chunk by chunk, vouched for alone or not: each
 * family block goes to `onFamily` as it closes (with a reused chunk, its raw
 * bytes are valid only then), and `end` gives the series count, or undefined
 * when the scanner cannot vouch for the file alone (an error, a warning or
 * notice, a family resumed later, or a block that is not one family): then
 * only the strict path may judge it.
 */
export class FileScan {
  private readonly scanner: FastScanner;
  private oneFamilyEach = true;

  constructor(options: ReadOptions, onFamily: (name: string, block: FastBlock) => void, mode: ScanMode = {}) {
    this.scanner = new FastScanner(
      options,
      (block) => {
        const parsed = block.parsed;
        if (block.name === undefined) this.oneFamilyEach &&= parsed === undefined || parsed.length === 0;
        else if (parsed !== undefined && (parsed.length !== 1 || parsed[0]?.name !== block.name)) this.oneFamilyEach = false;
        else onFamily(block.name, block);
      },
      mode,
    );
  }

  /** False once the rest of the file cannot change the outcome. */
  push(chunk: Uint8Array): boolean {
    return this.scanner.push(chunk) && this.oneFamilyEach;
  }

  end(): { readonly series: number } | undefined {
    const result = this.scanner.end();
    if (result.error !== undefined || result.wholeFile || result.notices.length > 0 || !this.oneFamilyEach) return undefined;
    return { series: result.series };
  }
}

/** The file's blocks by family name (in file order) and its series count, when the scanner vouches for it alone (FileScan). */
export function scanFile(bytes: Uint8Array, options: ReadOptions = {}): ScannedFile | undefined {
  const blocks = new Map<string, FastBlock>();
  const scan = new FileScan(options, (name, block) => blocks.set(name, block));
  scan.push(bytes);
  const scanned = scan.end();
  return scanned === undefined ? undefined : { blocks, series: scanned.series };
}

/** Names a change naming `names` may read: the names, and the histograms and summaries they would belong to. */
export function relatedNames(names: Iterable<string>): Set<string> {
  const related = new Set<string>();
  for (const name of names) {
    related.add(name);
    related.add(stripMemberSuffix('histogram', name));
    related.add(stripMemberSuffix('summary', name));
  }
  return related;
}

/** The families of a block of a file the scanner vouches for (one, by scanFile's test). */
export function parseBlock(block: FastBlock): readonly MetricFamily[] {
  return block.parsed ?? parseExposition(Buffer.concat(block.raw));
}

/** Parse the blocks whose names are `wanted`; keep the others as bytes. */
export function splitFile(blocks: ReadonlyMap<string, FastBlock>, wanted: ReadonlySet<string>): SplitFile {
  const parsed: MetricFamily[] = [];
  const copied = new Map<string, CopiedFamily>();
  for (const [name, block] of blocks) {
    if (wanted.has(name)) parsed.push(...parseBlock(block));
    else copied.set(name, { stub: familyStub(name, block.type), output: block.output });
  }
  return { parsed: parsed.sort((a, b) => compareNames(a.name, b.name)), copied };
}

/** The canonical text of the changed families and the copied ones, in name order, as renderChunks would write it. */
export function* spliceChunks(changed: readonly MetricFamily[], copied: ReadonlyMap<string, CopiedFamily>): Generator<Uint8Array | string> {
  const entries: Array<[string, MetricFamily | CopiedFamily]> = [
    ...changed.map((family): [string, MetricFamily] => [family.name, family]),
    ...copied,
  ];
  entries.sort(([a], [b]) => compareNames(a, b));
  for (const [, entry] of entries) {
    if ('output' in entry) yield* entry.output;
    else {
      const text = renderFamily(entry);
      if (text !== '') yield text;
    }
  }
}
