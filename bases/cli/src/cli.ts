// The `veil` command line: configure a server and key, then list datasets, read metadata and dummy rows,
// estimate, query (a table, or --json for scripts), check the budget and archive, follow a job with a
// progress bar; and the admin commands to run Veil without a database shell.
import { readFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { SingleBar } from 'cli-progress';
import { VeilApiError, VeilClient } from '@veil/veil-client';
import type { QueryAnswer } from '@veil/veil-client';
import { readConfig, writeConfig } from './config.js';
import { renderTable } from './table.js';
import { addPrivacyToolCommands } from './commands-privacy.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (progress bars only there). */
  interactive?: boolean;
}

const defaultIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  interactive: process.stderr.isTTY,
});

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof VeilApiError) {
      io.stderr(`error (${error.code}): ${error.message}\n`);
      if (error.details !== undefined) io.stderr(`details: ${JSON.stringify(error.details)}\n`);
      return error.status === 0 ? 3 : 1;
    }
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('veil')
    .description('Differentially private queries on datasets you never see')
    .option('--json', 'print JSON instead of tables')
    .option('--server <url>', 'the Veil server (default: configured, or http://127.0.0.1:8080)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const client = async (): Promise<VeilClient> => {
    const stored = await readConfig(io.env);
    const server = (program.opts().server as string | undefined) ?? stored.server!;
    if (!stored.apiKey) throw new Error('no API key: run `veil configure --key <key>` or set VEIL_API_KEY');
    return new VeilClient({ server, apiKey: stored.apiKey });
  };
  const json = () => program.opts().json === true;
  const print = (value: unknown, table: () => string) => io.stdout(`${json() ? JSON.stringify(value, null, 2) : table()}\n`);

  program
    .command('configure')
    .description('save the server URL and API key (file readable by you only)')
    .option('--key <key>', 'your API key')
    .action(async (options: { key?: string }) => {
      const server = program.opts().server as string | undefined;
      const path = await writeConfig(io.env, { ...(server ? { server } : {}), ...(options.key ? { apiKey: options.key } : {}) });
      io.stdout(`saved to ${path}\n`);
    });

  program
    .command('datasets')
    .description('the datasets granted to you')
    .action(async () => {
      const datasets = await (await client()).datasets();
      print(datasets, () => renderTable(['name', 'rows', 'description'], datasets.map((d) => [d.name, d.rows, d.description])));
    });

  program
    .command('metadata <dataset>')
    .description("a dataset's columns, bounds and privacy unit")
    .action(async (dataset: string) => {
      const view = await (await client()).metadata(dataset);
      print(view, () => {
        const cols = Object.entries(view.metadata.columns).map(([name, c]) => [name, c.type, c.lower ?? null, c.upper ?? null, c.categories?.join(', ') ?? null, c.nullable ? 'yes' : '']);
        const unit = view.metadata.privacy_unit;
        const header = `${view.name}${view.rows !== null ? ` (${view.rows} rows)` : ''}: ${unit ? `privacy unit ${unit.column}, at most ${unit.max_rows} rows and ${unit.max_groups} groups each` : 'row-level privacy'}`;
        return `${header}\n${renderTable(['column', 'type', 'lower', 'upper', 'categories', 'nullable'], cols)}`;
      });
    });

  program
    .command('dummy <dataset>')
    .description('random rows shaped like the dataset (free)')
    .option('--rows <n>', 'how many', '10')
    .option('--seed <seed>', 'for reproducible rows', '0')
    .action(async (dataset: string, options: { rows: string; seed: string }) => {
      const rows = await (await client()).dummy(dataset, { rows: Number(options.rows), seed: options.seed });
      print(rows, () => renderTable(rows.columns, rows.rows));
    });

  const privacy = (command: Command) =>
    command.requiredOption('-e, --epsilon <ε>', 'ε to spend').option('-d, --delta <δ>', 'δ to spend (default 0)');

  privacy(program.command('estimate <dataset> <sql>').description('what a query would cost and how accurate it would be (free)')).action(
    async (dataset: string, sql: string, options: { epsilon: string; delta?: string }) => {
      const estimate = await (await client()).estimate(dataset, { sql, epsilon: options.epsilon, delta: options.delta });
      print(estimate, () => `charge: ${costText(estimate.charge)}\nremaining: ${remainingText(estimate.budget.remaining)}\naccuracy: ${JSON.stringify(estimate.accuracy)}`);
    },
  );

  privacy(program.command('query <dataset> <sql>').description('run a differentially private query'))
    .option('--idempotency-key <key>', 'makes a retry return the first answer, charged once')
    .option('--no-wait', 'for a long query, print the job id instead of waiting')
    .action(async (dataset: string, sql: string, options: { epsilon: string; delta?: string; idempotencyKey?: string; wait: boolean }) => {
      const veil = await client();
      const bar = progressBar(io);
      try {
        const answer = await veil.query(dataset, { sql, epsilon: options.epsilon, delta: options.delta }, {
          idempotencyKey: options.idempotencyKey,
          wait: options.wait,
          onProgress: bar.update,
        });
        bar.stop();
        if (!('rows' in answer)) return print(answer, () => `accepted as job ${answer.jobId}; follow it with: veil job ${answer.jobId} --watch`);
        print(answer, () => answerText(answer));
      } finally {
        bar.stop();
      }
    });

  program
    .command('budget <dataset>')
    .description('your grant, what is spent and what remains')
    .action(async (dataset: string) => {
      const budget = await (await client()).budget(dataset);
      print(budget, () => `${budget.dataset}: grant ε ${budget.grant.epsilon}, δ ${budget.grant.delta} (${budget.mode})\nspent: ${costText(budget.spent)}\nremaining: ${remainingText(budget.remaining)}`);
    });

  program
    .command('archive')
    .description('your past queries, newest first')
    .option('--limit <n>', 'how many', '20')
    .action(async (options: { limit: string }) => {
      const queries = await (await client()).archive({ limit: Number(options.limit) });
      print(queries, () => renderTable(['when', 'dataset', 'charge ε', 'outcome', 'sql'], queries.map((q) => [q.createdAt, q.dataset, q.charge?.epsilon ?? null, q.error ? q.error.code : 'answered', q.sql])));
    });

  program
    .command('job <id>')
    .description("a job's status; --watch follows it with a progress bar")
    .option('--watch', 'follow the job until it ends')
    .action(async (id: string, options: { watch?: boolean }) => {
      const veil = await client();
      const bar = progressBar(io);
      try {
        const job = options.watch ? await veil.waitForJob(id, { onProgress: bar.update }) : await veil.job(id);
        bar.stop();
        print(job, () => (job.status === 'succeeded' && job.result && typeof job.result === 'object' && 'rows' in job.result ? answerText(job.result as QueryAnswer) : `${job.id}: ${job.status} (${Math.round(job.progress * 100)}%)${job.error ? ` — ${job.error.code}: ${job.error.message}` : ''}`));
      } finally {
        bar.stop();
      }
    });

  addAdminCommands(program, client, print);
  addPrivacyToolCommands(program, client, print, io);
  return program;
}

function addAdminCommands(program: Command, client: () => Promise<VeilClient>, print: (value: unknown, table: () => string) => void): void {
  const admin = program.command('admin').description('administration (needs an admin key)');
  admin
    .command('user-create <name>')
    .option('--role <role>', 'admin or analyst', 'analyst')
    .action(async (name: string, options: { role: 'admin' | 'analyst' }) => {
      const user = await (await client()).admin.createUser(name, options.role);
      print(user, () => `created ${user.role} ${user.name}`);
    });
  admin.command('users').action(async () => {
    const users = await (await client()).admin.users();
    print(users, () => renderTable(['name', 'role', 'created', 'disabled'], users.map((u) => [u.name, u.role, u.createdAt, u.disabledAt])));
  });
  admin
    .command('key-create <user>')
    .description('a new API key for a user (shown once)')
    .action(async (user: string) => {
      const key = await (await client()).admin.createKey(user);
      print(key, () => `API key for ${key.user} (shown once, store it now):\n${key.key}`);
    });
  admin.command('key-revoke <prefix>').action(async (prefix: string) => {
    const revoked = await (await client()).admin.revokeKey(prefix);
    print(revoked, () => `revoked ${revoked.prefix}`);
  });
  admin
    .command('dataset-add <name> <metadataFile>')
    .description('register a dataset from a YAML or JSON metadata file')
    .option('--description <text>')
    .action(async (name: string, file: string, options: { description?: string }) => {
      const dataset = await (await client()).admin.createDataset(name, await readFile(file, 'utf8'), options.description);
      print(dataset, () => `registered ${dataset.name} (${dataset.source})`);
    });
  admin.command('dataset-remove <name>').action(async (name: string) => {
    const removed = await (await client()).admin.removeDataset(name);
    print(removed, () => `removed ${removed.removed}`);
  });
  admin
    .command('grant <user> <dataset>')
    .description('set the total budget a user may spend on a dataset')
    .requiredOption('-e, --epsilon <ε>')
    .option('-d, --delta <δ>', 'default 0', '0')
    .option('--mode <mode>', 'zcdp (default when δ > 0) or basic')
    .action(async (user: string, dataset: string, options: { epsilon: string; delta: string; mode?: 'zcdp' | 'basic' }) => {
      const budget = await (await client()).admin.setGrant(user, dataset, { epsilon: options.epsilon, delta: options.delta, mode: options.mode });
      print(budget, () => `${budget.user} may spend ε ${budget.grant.epsilon}, δ ${budget.grant.delta} on ${budget.dataset} (${budget.mode}); remaining ${remainingText(budget.remaining)}`);
    });
  admin
    .command('queries')
    .option('--user <name>')
    .option('--dataset <name>')
    .option('--limit <n>', 'how many', '20')
    .action(async (options: { user?: string; dataset?: string; limit: string }) => {
      const queries = await (await client()).admin.queries({ user: options.user, dataset: options.dataset, limit: Number(options.limit) });
      print(queries, () => renderTable(['when', 'user', 'dataset', 'charge ε', 'outcome', 'sql'], queries.map((q) => [q.createdAt, q.user ?? null, q.dataset, q.charge?.epsilon ?? null, q.error ? q.error.code : 'answered', q.sql])));
    });
  admin
    .command('audit')
    .option('--limit <n>', 'how many', '20')
    .action(async (options: { limit: string }) => {
      const entries = await (await client()).admin.audit({ limit: Number(options.limit) });
      print(entries, () => renderTable(['when', 'action', 'target', 'details'], entries.map((e) => [e.createdAt, e.action, e.targetType, e.details])));
    });
}

function answerText(answer: QueryAnswer): string {
  // Answers on one's own synthetic (derived) dataset are exact and free: no budget is involved.
  if ((answer as { exact?: boolean }).exact) return `${renderTable(answer.columns, answer.rows)}\n\nexact answer on synthetic data: no charge`;
  return `${renderTable(answer.columns, answer.rows)}\n\ncharge: ${costText(answer.charge)}\nremaining: ${remainingText(answer.remaining)}`;
}

function costText(cost: { epsilon: string; delta: string; rho: string }): string {
  return `ε ${cost.epsilon}, δ ${cost.delta} (ρ ${cost.rho})`;
}

function remainingText(remaining: { epsilon?: string; delta: string; rho?: string }): string {
  return [remaining.rho !== undefined ? `ρ ${remaining.rho}` : null, remaining.epsilon !== undefined ? `ε ${remaining.epsilon}` : null, `δ ${remaining.delta}`].filter(Boolean).join(', ');
}

/** A progress bar on stderr when it is a terminal; silent otherwise, so scripts get clean output. */
function progressBar(io: CliIo): { update: (fraction: number) => void; stop: () => void } {
  if (!io.interactive) return { update: () => undefined, stop: () => undefined };
  let bar: SingleBar | undefined;
  return {
    update: (fraction) => {
      if (!bar) {
        bar = new SingleBar({ format: 'job [{bar}] {percentage}%', hideCursor: true, clearOnComplete: true });
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
