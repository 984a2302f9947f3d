// The documentation as the tests read it: README.md and docs/*.md, and the fenced
// blocks in them (with the `<!-- ... -->` comment that may precede a block).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** README.md, then docs/*.md in name order, as paths relative to the repository. */
export const DOC_FILES: readonly string[] = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

/** The text of a documentation file (relative to the repository). */
export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

export interface FencedBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string after the opening fence (`sh`, `yaml`, `` for none). */
  readonly language: string;
  /** The block's text, de-indented, ending in a newline. */
  readonly code: string;
  /** The HTML comment on the last non-blank line before the fence, without `<!--`/`-->`. */
  readonly note: string | undefined;
}

/** Every fenced block of a markdown file, indented ones (in list items) included. */
export function fencedBlocks(file: string): FencedBlock[] {
  const lines = readDoc(file).split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\S*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const indent = open[1] as string;
    const end = lines.findIndex((line, j) => j > i && line === `${indent}\`\`\``);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    let before = i - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const note = /^\s*<!--\s*([\s\S]*?)\s*-->\s*$/.exec(lines[before] ?? '')?.[1];
    const code = lines
      .slice(i + 1, end)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    blocks.push({ file, line: i + 1, language: open[2] as string, code: `${code}\n`, note });
    i = end;
  }
  return blocks;
}

/** Every fenced block of README.md and docs/*.md. */
export function allBlocks(): FencedBlock[] {
  return DOC_FILES.flatMap(fencedBlocks);
}

/** The first block of `language` whose text matches `pattern`, anywhere in README.md and docs/. */
export function findBlock(language: string, pattern: RegExp): FencedBlock | undefined {
  return allBlocks().find((block) => block.language === language && pattern.test(block.code));
}
