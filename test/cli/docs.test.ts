// The documentation that ships: examples in every --help, the man page (built from the
// same definitions), and the completion scripts, each checked through the real tool
// that reads it (man, bash, zsh).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/binaries.js';
import { ROOT, promfile, tempDir } from '../helpers/cli.js';

const COMMANDS = ['set', 'write', 'unset', 'rm', 'run', 'inc', 'unit', 'check', 'ls', 'gc', 'push', 'observe', 'rules', 'completion'];
const MAN = requireBinary('man');
const ZSH = requireBinary('zsh');

/** The example lines at the end of a help text. */
function examplesOf(help: string): string[] {
  const block = help.split('\nExamples:\n')[1] ?? '';
  return block.split('\n').filter((line) => line.startsWith('  promfile ') || line.includes('| promfile '));
}

/** Every .ts file under a directory. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const squeeze = (text: string): string => text.replace(/\u2010/g, '-').replace(/\s+/g, ' ');

describe('--help', () => {
  it('lists every command, and the commands are the documented ones', () => {
    const help = promfile(['--help']).stdout;
    for (const command of COMMANDS) expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(examplesOf(help).length).toBeGreaterThanOrEqual(2);
  });

  it.each(COMMANDS)('of %s shows two or three examples', (command) => {
    const result = promfile([command, '--help']);
    expect(result.status).toBe(0);
    const examples = examplesOf(result.stdout);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(examples.length).toBeLessThanOrEqual(3);
    for (const line of examples) expect(line).toMatch(new RegExp(`\\bpromfile ${command}\\b`));
  });
});

describe.skipIf(!MAN)('the man page', () => {
  const rendered = (): string => {
    const result = spawnSync(MAN as string, ['--warnings', '-E', 'UTF-8', '-l', join(ROOT, 'dist', 'man', 'promfile.1')], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return squeeze(result.stdout.replace(/-\n\s*/g, '-'));
  };

  it('renders without warnings and says what each command --help says', () => {
    const man = rendered();
    for (const command of COMMANDS) {
      const help = promfile([command, '--help']).stdout;
      const usage = /^Usage: (.*)$/m.exec(help)?.[1] as string;
      expect(man).toContain(usage);
      const options = [...help.matchAll(/^ {2}(-[^ ].*?)(?: {2,}|$)/gm)].map((match) => match[1] as string);
      expect(options.length).toBeGreaterThan(0);
      for (const option of options) expect(man, `${command} ${option}`).toContain(option);
      for (const example of examplesOf(help)) expect(man).toContain(squeeze(example.trim()));
    }
  });

  it('names in ENVIRONMENT every variable promfile reads, and PROMFILE_TRUST_PARENT as ignored', () => {
    const man = rendered();
    const environment = man.slice(man.indexOf('ENVIRONMENT'), man.indexOf('SEE ALSO'));
    // Read through io.env / env[...] / env.NAME anywhere in src/ (the CLI hands its environment down);
    // os.tmpdir() reads TMPDIR. Every variable read is for users: the shipped program has no test hooks.
    const read = new Set(['TMPDIR']);
    for (const file of sourceFiles(join(ROOT, 'src')))
      for (const match of readFileSync(file, 'utf8').matchAll(/\benv(?:\?\.)?(?:\.|\[')([A-Z][A-Z0-9_]+)/g)) read.add(match[1] as string);
    expect([...read]).toEqual(expect.arrayContaining(['PROMFILE_DIR', 'PROMFILE_DEBUG', 'NO_COLOR', 'TZDIR']));
    for (const name of read) expect(environment, name).toMatch(new RegExp(`\\b${name}\\b`));
    expect(environment).toMatch(/PROMFILE_TRUST_PARENT ignored/);
  });

  it('the shipped program reads no test hook: neither PROMFILE_TEST_PAUSE nor PROMFILE_PROC_ROOT is in the bundle', () => {
    const bundle = readFileSync(join(ROOT, 'dist', 'promfile.cjs'), 'utf8');
    expect(bundle).not.toMatch(/PROMFILE_TEST_|PROMFILE_PROC_ROOT/);
  });

  it('has the exit statuses of docs/exit-codes.md', () => {
    const man = rendered();
    expect(man).toMatch(/EXIT STATUS 0 success/);
    expect(man).toContain('124 the job was stopped by --timeout');
    expect(man).toMatch(/70 internal error/);
  });
});

describe('promfile completion', () => {
  /** The words bash offers for the command line `line` (cursor at its end). */
  function bashComplete(line: string, env: Record<string, string> = {}): string[] {
    const script = promfile(['completion', 'bash']).stdout;
    const words = line.split(' ');
    const program = `${script}
COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_promfile; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync('bash', ['--norc', '-c', program], { encoding: 'utf8', env: { ...process.env, PROMFILE_DIR: '', ...env } });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter(Boolean);
  }

  /** A textfile directory holding a.prom, b.x.prom, and what -f cannot name: c.txt, .d.prom, a directory e.prom. */
  async function textfiles(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
    const made = await tempDir('promfile-completion-');
    for (const name of ['a.prom', 'b.x.prom', 'c.txt', '.d.prom']) writeFileSync(join(made.dir, name), 'm 1\n');
    mkdirSync(join(made.dir, 'e.prom'));
    return made;
  }

  it('bash: the shell after completion, and after -f the textfiles of --dir, else $PROMFILE_DIR', async () => {
    expect(bashComplete('promfile completion ')).toEqual(['bash', 'zsh']);
    expect(bashComplete('promfile completion z')).toEqual(['zsh']);
    const { dir, cleanup } = await textfiles();
    try {
      expect(bashComplete(`promfile set --dir ${dir} -f `).sort()).toEqual(['a', 'b.x']);
      expect(bashComplete(`promfile check --dir ${dir} --file b`)).toEqual(['b.x']);
      expect(bashComplete('promfile rm -f ', { PROMFILE_DIR: dir }).sort()).toEqual(['a', 'b.x']);
      expect(bashComplete(`promfile run --dir ${dir} --job x -f a`)).toEqual(['a']);
    } finally {
      await cleanup();
    }
  });

  it.skipIf(!ZSH)('zsh: the shell after completion, and after -f the textfiles of --dir, else $PROMFILE_DIR', async () => {
    const script = promfile(['completion', 'zsh']).stdout;
    expect(script).toContain("'1:argument:(bash zsh)'");
    expect(script).toMatch(/'-f\[[^']*\]:name:_promfile_textfiles'/);
    const { dir, cleanup } = await textfiles();
    // Sourced with compdef and compadd stubbed: _promfile_textfiles offers what compadd -a gets.
    const offered = (words: string, env: Record<string, string> = {}): string[] => {
      const program = `compdef() { :; }; compadd() { print -l -- \${(P)2}; }
${script}
words=(${words}); _promfile_textfiles`;
      const result = spawnSync(ZSH as string, ['-f', '-c', program], {
        encoding: 'utf8',
        env: { ...process.env, PROMFILE_DIR: '', ...env },
      });
      expect(result.stderr).toBe('');
      return result.stdout.split('\n').filter(Boolean).sort();
    };
    try {
      expect(offered(`set --dir ${dir} -f ''`)).toEqual(['a', 'b.x']);
      expect(offered(`rm -f ''`, { PROMFILE_DIR: dir })).toEqual(['a', 'b.x']);
    } finally {
      await cleanup();
    }
  });

  it('bash: completes commands, their options, option values and the command run runs', () => {
    expect(bashComplete('promfile s')).toEqual(['set']);
    expect(bashComplete('promfile ')).toEqual(expect.arrayContaining(COMMANDS));
    expect(bashComplete('promfile set --dr')).toEqual(['--dry-run']);
    expect(bashComplete('promfile set -f x --type ')).toEqual(['gauge', 'counter', 'untyped']);
    expect(bashComplete('promfile check --format j')).toEqual(['json']);
    expect(bashComplete('promfile gc --')).toContain('--older-than');
    expect(bashComplete('promfile gc --')).not.toContain('--dry-run-not-an-option');
    expect(bashComplete('promfile run --job x -- tru')).toContain('true');
  });

  it.skipIf(!ZSH)('zsh: the script parses and names every command and option', () => {
    const result = promfile(['completion', 'zsh']);
    expect(result.status).toBe(0);
    const parsed = spawnSync(ZSH as string, ['-n', '-c', result.stdout], { encoding: 'utf8' });
    expect(parsed.stderr).toBe('');
    expect(parsed.status).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toContain(`    ${command})`);
    expect(result.stdout).toContain("'--older-than[");
    expect(result.stdout.split('\n')[0]).toBe('#compdef promfile');
  });

  it('refuses an unknown shell with exit 2', () => {
    const result = promfile(['completion', 'fish']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
  });

  it('the scripts the packages install are the ones the command prints', () => {
    expect(readFileSync(join(ROOT, 'dist', 'completions', 'promfile.bash'), 'utf8')).toBe(promfile(['completion', 'bash']).stdout);
    expect(readFileSync(join(ROOT, 'dist', 'completions', '_promfile'), 'utf8')).toBe(promfile(['completion', 'zsh']).stdout);
  });
});
