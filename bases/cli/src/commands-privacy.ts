// `veil synth` (DP synthetic data, with a progress bar, written to a CSV or Parquet file) and `veil mask`
// (masked samples and exports for users with a masked role; policies and roles for admins).
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { parse as parseYaml } from 'yaml';
import type { MaskedExportResult, MaskingPolicyInput, MaskingPolicyView, ResultFormat, SyntheticResult, VeilClient } from '@veil/veil-client';
import type { CliIo } from './cli.js';
import { renderTable } from './table.js';

type Print = (value: unknown, table: () => string) => void;

export function addPrivacyToolCommands(program: Command, client: () => Promise<VeilClient>, print: Print, io: CliIo): void {
  addSynthCommand(program, client, print, io);
  addMaskCommands(program, client, print, io);
}

function addSynthCommand(program: Command, client: () => Promise<VeilClient>, print: Print, io: CliIo): void {
  program
    .command('synth <dataset>')
    .description('DP synthetic data (MST), charged like a query; also registered as a dataset you can query free')
    .requiredOption('-e, --epsilon <ε>', 'ε to spend')
    .requiredOption('-d, --delta <δ>', 'δ to spend (MST needs δ > 0, e.g. 1e-9)')
    .option('--rows <n>', 'rows to generate (default: the noisy row count)')
    .option('--columns <list>', 'comma-separated columns (default: all but the privacy unit)')
    .option('-o, --out <file>', 'write the rows here (.csv or .parquet)')
    .option('--format <format>', 'csv or parquet (default: from --out, else csv)')
    .option('--no-wait', 'print the job id instead of waiting')
    .action(async (dataset: string, options: { epsilon: string; delta: string; rows?: string; columns?: string; out?: string; format?: string; wait: boolean }) => {
      const format = resultFormat(options.format, options.out);
      const veil = await client();
      const accepted = await veil.synthesize(dataset, {
        epsilon: options.epsilon,
        delta: options.delta,
        ...(options.rows !== undefined ? { rows: positiveInteger(options.rows, '--rows') } : {}),
        ...(options.columns ? { columns: options.columns.split(',').map((c) => c.trim()).filter(Boolean) } : {}),
      });
      if (!options.wait) return print(accepted, () => `accepted as job ${accepted.jobId}; follow it with: veil job ${accepted.jobId} --watch`);
      const bar = progressBar(io, 'synthesizing');
      let result: SyntheticResult;
      try {
        const job = await veil.waitForJob(accepted.jobId, { onProgress: bar.update });
        result = job.result as SyntheticResult;
      } finally {
        bar.stop();
      }
      if (options.out) await writeFile(options.out, await veil.downloadResult(accepted.jobId, format));
      print({ ...result, jobId: accepted.jobId, ...(options.out ? { file: options.out } : {}) }, () =>
        [
          `${result.rows} synthetic rows of ${result.columns.join(', ')}${options.out ? ` written to ${options.out}` : ''}`,
          `charge: ε ${result.charge.epsilon}, δ ${result.charge.delta} (ρ ${result.charge.rho})`,
          `derived dataset: ${result.dataset} (query it at no charge: veil query ${result.dataset} "SELECT COUNT(*) FROM dataset" -e 1)`,
          `download again: veil download ${accepted.jobId} --format ${format} --out <file>`,
        ].join('\n'),
      );
    });

  program
    .command('download <job>')
    .description('the file a synthetic-data or masked-export job wrote')
    .requiredOption('-o, --out <file>', 'where to write it')
    .option('--format <format>', 'csv or parquet (default: from --out)')
    .action(async (job: string, options: { out: string; format?: string }) => {
      const bytes = await (await client()).downloadResult(job, resultFormat(options.format, options.out));
      await writeFile(options.out, bytes);
      print({ job, file: options.out, bytes: bytes.length }, () => `wrote ${bytes.length} bytes to ${options.out}`);
    });
}

function addMaskCommands(program: Command, client: () => Promise<VeilClient>, print: Print, io: CliIo): void {
  const mask = program.command('mask').description('masked samples and exports (needs a role with a masking policy); policies and roles (admin)');
  mask
    .command('sample <dataset>')
    .description('masked rows of a dataset (never charged)')
    .option('--rows <n>', 'how many', '20')
    .option('--role <role>', 'which of your roles to use, when several apply')
    .action(async (dataset: string, options: { rows: string; role?: string }) => {
      const sample = await (await client()).maskedSample(dataset, { rows: positiveInteger(options.rows, '--rows'), role: options.role });
      print(sample, () => `${renderTable(sample.columns.map((c) => c.name), sample.rows)}${sample.kAnonymity ? `\n\nk-anonymity over ${sample.kAnonymity.quasiIdentifiers.join(', ')}: k = ${sample.kAnonymity.k}` : ''}`);
    });
  mask
    .command('export <dataset>')
    .description('a masked CSV or Parquet export (a job), with a k-anonymity report')
    .option('--format <format>', 'csv or parquet (default: from --out, else csv)')
    .option('--k <k>', 'require k-anonymity over the quasi-identifiers (smaller groups are suppressed)')
    .option('--role <role>', 'which of your roles to use, when several apply')
    .option('-o, --out <file>', 'write the file here')
    .action(async (dataset: string, options: { format?: string; k?: string; role?: string; out?: string }) => {
      const format = resultFormat(options.format, options.out);
      const veil = await client();
      const accepted = await veil.maskedExport(dataset, { format, ...(options.k !== undefined ? { k: positiveInteger(options.k, '--k') } : {}), ...(options.role ? { role: options.role } : {}) });
      const bar = progressBar(io, 'exporting');
      let result: MaskedExportResult;
      try {
        result = (await veil.waitForJob(accepted.jobId, { onProgress: bar.update })).result as MaskedExportResult;
      } finally {
        bar.stop();
      }
      if (options.out) await writeFile(options.out, await veil.downloadResult(accepted.jobId, format));
      print({ ...result, jobId: accepted.jobId, ...(options.out ? { file: options.out } : {}) }, () => {
        const k = result.kAnonymity;
        return [
          `${result.rows} masked rows (${result.format})${options.out ? ` written to ${options.out}` : `; download with: veil download ${accepted.jobId} --out <file>`}`,
          k ? `k-anonymity over ${k.quasiIdentifiers.join(', ')}: k = ${k.kReleased ?? k.k}${k.requiredK !== null ? ` (required ${k.requiredK}; ${k.suppressedRows} rows suppressed)` : ''}` : 'no quasi-identifiers declared: no k-anonymity report',
        ].join('\n');
      });
    });
  mask
    .command('policy-set <dataset> <role> <file>')
    .description('admin: set the masking policy of a role from a YAML or JSON file ({ rules, public, quasi_identifiers })')
    .action(async (dataset: string, role: string, file: string) => {
      const policy = parseYaml(await readFile(file, 'utf8')) as MaskingPolicyInput;
      const view = await (await client()).masking.setPolicy(dataset, role, policy);
      print(view, () => policyText(view));
    });
  mask
    .command('policy <dataset> <role>')
    .description("admin: a role's masking policy on a dataset")
    .action(async (dataset: string, role: string) => {
      const view = await (await client()).masking.policy(dataset, role);
      print(view, () => policyText(view));
    });
  mask
    .command('roles <user> [roles...]')
    .description("admin: set a user's masking roles (none given: show them)")
    .option('--clear', 'remove all of the user’s roles')
    .action(async (user: string, roles: string[], options: { clear?: boolean }) => {
      const veil = await client();
      const result = roles.length > 0 || options.clear ? await veil.masking.setRoles(user, roles) : await veil.masking.roles(user);
      print(result, () => `${result.user}: ${result.roles.length ? result.roles.join(', ') : '(no roles)'}`);
    });
}

function policyText(view: MaskingPolicyView): string {
  const rows = view.columns.map((c) => [c.name, c.rule ?? '(public)']);
  return `${view.dataset}, role ${view.role}\n${renderTable(['column', 'rule'], rows)}${view.withheld.length ? `\nwithheld: ${view.withheld.join(', ')}` : ''}`;
}

function resultFormat(format: string | undefined, out: string | undefined): ResultFormat {
  const chosen = format ?? (out && extname(out).toLowerCase() === '.parquet' ? 'parquet' : 'csv');
  if (chosen !== 'csv' && chosen !== 'parquet') throw new Error(`--format must be csv or parquet, not "${chosen}"`);
  return chosen;
}

function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${option} must be a whole number above 0, not "${text}"`);
  return value;
}

/** A progress bar on stderr when it is a terminal; silent otherwise, so scripts get clean output. */
function progressBar(io: CliIo, label: string): { update: (fraction: number) => void; stop: () => void } {
  if (!io.interactive) return { update: () => undefined, stop: () => undefined };
  let bar: SingleBar | undefined;
  return {
    update: (fraction) => {
      if (!bar) {
        bar = new SingleBar({ format: `${label} [{bar}] {percentage}%`, hideCursor: true, clearOnComplete: true, stream: process.stderr });
        bar.start(100, 0);
      }
      bar.update(Math.round(fraction * 100));
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
