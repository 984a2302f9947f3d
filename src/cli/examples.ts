// Examples shown after each command's --help, and in the man page (both read this table).
import type { Command } from 'commander';

export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  promfile: [
    'promfile set -f backup backup_last_success_timestamp_seconds now',
    'promfile run --job backup --timeout 2h -- /usr/local/bin/backup.sh',
    'promfile check',
  ],
  set: [
    'promfile set -f backup backup_last_success_timestamp_seconds now',
    'promfile set -f raid \'raid_degraded{md="md0"}\' 0 raid_disks 4',
    'promfile set -f deploy app_version_info 1 -l version=1.4.2 --replace',
  ],
  write: [
    'promfile write -f apt --timeout 5m -- /usr/share/prometheus-node-exporter-collectors/apt_info.py',
    'my-collector | promfile write --dir /srv/textfile -f mine --mode 0640',
    'promfile write -f x --dry-run < metrics.prom',
  ],
  unset: ['promfile unset -f raid \'raid_degraded{md="md0"}\'', 'promfile unset -f backup --family backup_size_bytes'],
  rm: ['promfile rm -f old_job', 'promfile rm --file-path /srv/textfile/x.prom'],
  run: [
    'promfile run --job backup -- /usr/local/bin/backup.sh --full',
    'promfile run --job sync --no-overlap --timeout 30m -- rsync -a /src/ /dst/',
    'promfile run --job report -l team=ops -- sh -c \'echo "report_rows 42" >> "$PROMFILE_METRICS"\'',
  ],
  unit: [
    "promfile unit backup --on-calendar '*-*-* 02:30' --randomized-delay 15m --persistent --timeout 2h -- /usr/local/sbin/backup.sh",
    "promfile unit report --on-calendar 'Mon..Fri 06:00' --write -- /usr/local/bin/report --daily",
  ],
  inc: ['promfile inc -f logins logins_total', 'promfile inc -f mail \'mails_sent_total{queue="out"}\' 25'],
  check: ['promfile check', 'promfile check --max-age 26h --against http://127.0.0.1:9100/metrics', 'my-collector | promfile check -'],
  ls: ['promfile ls', 'promfile ls --dir /srv/textfile --format json'],
  gc: ['promfile gc --dry-run', 'promfile gc --older-than 7d'],
  push: [
    'promfile push --gateway http://127.0.0.1:9091 --job nightly_etl etl_rows_total 1200',
    'my-collector | promfile push --gateway http://127.0.0.1:9091 --job etl --grouping shard=3',
    'promfile push --gateway http://127.0.0.1:9091 --job nightly_etl --delete',
  ],
  observe: [
    'promfile observe -f backup backup_size_bytes 1.2e9 --buckets 1e6,1e8,1e10',
    'promfile observe -f probes \'probe_seconds{site="a"}\' 0.21',
  ],
  rules: [
    'promfile rules > /etc/prometheus/rules/promfile.yml',
    'promfile rules --job backup --format prometheus-operator --runbook-url https://wiki.example.org/runbooks',
  ],
  completion: ['promfile completion bash > /etc/bash_completion.d/promfile', 'promfile completion zsh > "${fpath[1]}/_promfile"'],
};

/** The examples block of `name`'s help text. */
export function examplesText(name: string): string {
  const examples = EXAMPLES[name] ?? [];
  return examples.length === 0 ? '' : `\nExamples:\n${examples.map((line) => `  ${line}\n`).join('')}`;
}

/** Append its examples to the help of the program and of each of its commands. */
export function addExamples(program: Command): void {
  for (const command of [program, ...program.commands]) {
    const text = examplesText(command.name());
    if (text) command.addHelpText('after', text);
  }
}
