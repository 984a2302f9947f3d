// The README and docs/ are part of the product: their alert rules must load in
// Prometheus and name metrics promfile really writes; the quick start from a clone works.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_METRICS } from '../../src/job/metrics.js';
import { PROMTOOL } from '../helpers/binaries.js';
import { BIN, NODE, ROOT, tempDir } from '../helpers/cli.js';
import { allBlocks, DOC_FILES, findBlock, readDoc } from '../helpers/docs.js';

const COLLECTORS = '/usr/share/prometheus-node-exporter-collectors';
const docs = DOC_FILES.map(readDoc).join('\n');
const ruleFiles = allBlocks()
  .filter((block) => block.language === 'yaml' && block.code.startsWith('groups:\n'))
  .map((block) => block.code);

describe('README and docs/', () => {
  it('has a rule file for the cronjob alerts', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
  });

  it.skipIf(!PROMTOOL)('every rule file in it passes promtool check rules', async () => {
    const { dir, cleanup } = await tempDir('promfile-readme-');
    try {
      ruleFiles.forEach((rules, i) => {
        const file = join(dir, `rules-${i}.yml`);
        writeFileSync(file, rules);
        const result = spawnSync(PROMTOOL as string, ['check', 'rules', file], { encoding: 'utf8' });
        expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      });
    } finally {
      await cleanup();
    }
  });

  it('its cronjob alerts use only metrics promfile run writes', () => {
    const written = new Set<string>(
      Object.values(JOB_METRICS).flatMap((metric: { name: string; type: string }) =>
        metric.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((suffix) => `${metric.name}${suffix}`) : [metric.name],
      ),
    );
    const used = ruleFiles.flatMap((rules) => rules.match(/promfile_[a-z_]+/g) ?? []);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(written.has(name), name).toBe(true);
  });

  it.skipIf(!existsSync(COLLECTORS))("names only collector scripts that Debian's package ships", () => {
    const named = [...docs.matchAll(/\/usr\/share\/prometheus-node-exporter-collectors\/[\w.-]+/g)].map((match) => match[0]);
    expect(named.length).toBeGreaterThan(0);
    for (const path of named) expect(existsSync(path), path).toBe(true);
  });

  it('from a clone (docs/install.md): two commands, npm ci (which builds) then the promfile line', async () => {
    const block = findBlock('sh', /^npm ci\nnpx promfile /)?.code ?? '';
    const [install, command, ...rest] = block.trim().split('\n');
    expect(install).toBe('npm ci');
    expect(rest).toEqual([]);
    // npm ci runs the `dependencies` script after installing: that is what builds dist/.
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['dependencies']).toBe('npm run build');
    expect(command).toMatch(/^npx promfile /);
    const { dir, cleanup } = await tempDir('promfile-quickstart-');
    try {
      const args = (command as string).split(' ').slice(2);
      const result = spawnSync(NODE, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(join(dir, 'textfile', 'backup.prom'), 'utf8')).toMatch(/^backup_last_success_timestamp_seconds \d+/m);
    } finally {
      await cleanup();
    }
  });

  it('promises only install routes that exist: nothing from the npm registry, where promfile is not published', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { homepage?: string; files: string[] };
    expect(pkg.homepage ?? '').not.toMatch(/npmjs/);
    expect(pkg.files).toContain('docs');
    for (const file of DOC_FILES) {
      // A block that starts with `npm ci` runs in a clone, where npx finds promfile itself.
      const lines = readDoc(file)
        .replace(/```sh\nnpm ci\n[\s\S]*?```/g, '')
        .split('\n');
      // Lines that mention installing "promfile" by name from the registry must say that it is not there.
      const registry = lines.filter((line) => /npm (install|i) (--global|-g) promfile\b(?![-.\w])|npx promfile\b/.test(line));
      for (const line of registry) expect(/not (published|on the npm registry)|clone/.test(line), `${file}: ${line}`).toBe(true);
    }
  });

  it('the writeRegistry example of docs/library.md runs as shown, creating the directory it is given', async () => {
    const command = /`npm run build && node (examples\/write-registry\.mjs) (\S+)`/.exec(readDoc('docs/library.md'));
    expect(command?.[2]).toBe('/tmp/metrics');
    const { dir, cleanup } = await tempDir('promfile-example-');
    try {
      const target = join(dir, 'metrics');
      const result = spawnSync(NODE, [join(ROOT, command?.[1] as string), target], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(join(target, 'backup.prom'), 'utf8')).toMatch(/^backup_size_bytes\{volume="home"\} 1200000000$/m);
    } finally {
      await cleanup();
    }
  });

  it("README is a user's first ten minutes: at most 250 lines, opening on a block that needs no flag", () => {
    const readme = readDoc('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    const first = allBlocks().find((block) => block.file === 'README.md' && block.language === 'sh');
    expect(first?.line).toBeLessThan(25);
    expect(first?.code).toMatch(/^promfile set -f /);
    expect(first?.code).not.toMatch(/--dir|PROMFILE_DIR|--mkdir|--file-path/);
  });

  it('every relative link in README and docs/ reaches a file, and a heading when it names one', () => {
    /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
    const slug = (heading: string): string =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const links = DOC_FILES.flatMap((file) =>
      [...readDoc(file).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => ({ file, target: match[1] as string })),
    );
    expect(links.length).toBeGreaterThan(10);
    for (const { file, target } of links.filter((link) => !/^[a-z]+:/.test(link.target))) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), path);
      expect(existsSync(resolved), `${file}: ${target}`).toBe(true);
      if (anchor === undefined) continue;
      const headings = [...readFileSync(resolved, 'utf8').matchAll(/^#+ (.+)$/gm)].map((match) => slug(match[1] as string));
      expect(headings, `${file}: ${target}`).toContain(anchor);
    }
  });

  it('before npm ci (no dist/), the command says to run it, in one line', async () => {
    const { dir, cleanup } = await tempDir('promfile-unbuilt-');
    try {
      mkdirSync(join(dir, 'bin'));
      for (const file of ['promfile.js', 'package.json']) copyFileSync(join(ROOT, 'bin', file), join(dir, 'bin', file));
      const result = spawnSync(NODE, [join(dir, 'bin', 'promfile.js'), '--version'], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^promfile: dist\/promfile\.cjs is missing: run `npm ci` \(or `npm run build`\) in the clone first\n$/);
    } finally {
      await cleanup();
    }
  });
});
