/** The `bosun` command line: run nodes, and operate a cluster through the REST API like rladmin. */
import { Argument, Command, InvalidArgumentError, Option, type ErrorOptions } from 'commander';

import type { LocalClusterOptions } from '../launcher/local-cluster.js';
import type { BackupCommandOptions } from './backup-command.js';
import { versionLine } from '../version.js';
import { registerActions } from './commands/actions.js';
import { registerCluster } from './commands/cluster.js';
import { registerEvents } from './commands/events.js';
import { registerLogs } from './commands/logs.js';
import { registerStatus } from './commands/status.js';
import { registerUsers } from './commands/users.js';
import { Cli, DEFAULT_URL, ExitCode } from './context.js';
import type { NodeCommandOptions } from './node-command.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return n;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected a whole number');
  return n;
}

function port(value: string): number {
  const n = positiveInt(value);
  if (n > 65535) throw new InvalidArgumentError('expected a port number (1-65535)');
  return n;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every usage error is one line, `bosun: <what> (see '<command> --help')`, and exit code 2. */
class BosunCommand extends Command {
  override createCommand(name?: string): Command {
    return new BosunCommand(name);
  }

  override error(message: string, errorOptions?: ErrorOptions): never {
    const text = message
      .replace(/^error: /, '')
      .replace(/\s*\n\s*/g, ' ')
      .trim();
    return super.error(`${text} (see '${commandPath(this)} --help')`, {
      ...errorOptions,
      exitCode: ExitCode.usage,
    });
  }
}

const program = new BosunCommand()
  .name('bosun')
  .description('A cluster control plane that speaks the Redis Enterprise v1 REST API for cluster actions.')
  .version(versionLine)
  .configureOutput({ outputError: (str, write) => write(`bosun: ${str}`) })
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : ExitCode.usage));

program.commandsGroup('Run nodes:');

program
  .command('node')
  .description('Run one node process in the foreground (`bosun node start` is the same).')
  .addArgument(
    new Argument('[start]', 'optional: `bosun node start ...` runs the node too').choices(['start']),
  )
  .requiredOption('--uid <n>', "this node's uid (1..N)", positiveInt)
  .option(
    '--data-dir <dir>',
    'where the node keeps its certificate and, for SQLite, the store file',
    './data',
  )
  .option(
    '--store <url>',
    'sqlite:<path> or etcd://host:port[,host:port...] (env BOSUN_STORE; default sqlite:<data-dir>/bosun.db)',
  )
  // Every setting a service keeps in its environment file can come from the environment, so a
  // systemd unit's command line stays `bosun node --uid N --data-dir DIR` (packaging/systemd/).
  .addOption(
    new Option('--prefix <prefix>', "the cluster's key prefix in the store")
      .env('BOSUN_PREFIX')
      .default('/bosun/'),
  )
  .addOption(new Option('--host <addr>', 'the address to listen on').env('BOSUN_HOST').default('127.0.0.1'))
  .addOption(
    new Option('--advertise-addr <addr>', 'the address others reach this node at (default: --host)').env(
      'BOSUN_ADVERTISE_ADDR',
    ),
  )
  .addOption(
    new Option('--http-port <port>', 'HTTP port (default 8080 + uid - 1)')
      .env('BOSUN_HTTP_PORT')
      .argParser(port),
  )
  .addOption(
    new Option('--https-port <port>', 'HTTPS port (default 9443 + uid - 1)')
      .env('BOSUN_HTTPS_PORT')
      .argParser(port),
  )
  .addOption(
    new Option('--lease-ttl <ms>', 'membership and master lease TTL in ms')
      .env('BOSUN_LEASE_TTL')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--handover-timeout <ms>', 'how long change_master waits for the target to take over')
      .env('BOSUN_HANDOVER_TIMEOUT')
      .argParser(positiveInt),
  )
  .addOption(
    new Option(
      '--fast-failover <mode>',
      'replace a dead master before its lease runs out: on (process gone on this host, or port refused per a majority), port (port only), off',
    )
      .choices(['on', 'port', 'off'])
      .env('BOSUN_FAST_FAILOVER'),
  )
  .option(
    '--metrics-auth',
    'GET /metrics needs a user with view_all_metrics (env BOSUN_METRICS_AUTH=1; default: public)',
  )
  .option('--no-metrics', 'keep no metrics and serve no GET /metrics (env BOSUN_METRICS=0)')
  .addOption(
    new Option(
      '--event-log-retention <n>',
      'how many entries the cluster event log (GET /v1/logs) keeps (default 10000)',
    )
      .env('BOSUN_EVENT_LOG_RETENTION')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--retain-runs <n>', 'how many runs GET /v1/actions keeps at most (default 10000)')
      .env('BOSUN_RETAIN_RUNS')
      .argParser(positiveInt),
  )
  .addOption(
    new Option(
      '--retain-runs-age <seconds>',
      'finished runs older than this are pruned; 0 keeps them (default 2592000, 30 days)',
    )
      .env('BOSUN_RETAIN_RUNS_AGE')
      .argParser(wholeNumber),
  )
  .addOption(
    new Option('--retention-sweep <ms>', 'how often the master prunes by age (default 60000)')
      .env('BOSUN_RETENTION_SWEEP')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--idempotency-ttl <seconds>', 'how long an Idempotency-Key holds (default 86400, 24 hours)')
      .env('BOSUN_IDEMPOTENCY_TTL')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--headers-timeout <ms>', 'a request whose headers take longer gets 408 (default 10000)')
      .env('BOSUN_HEADERS_TIMEOUT')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--request-timeout <ms>', 'a request whose body takes longer gets 408 (default 30000)')
      .env('BOSUN_REQUEST_TIMEOUT')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--keep-alive-timeout <ms>', 'idle keep-alive connections close after this (default 5000)')
      .env('BOSUN_KEEP_ALIVE_TIMEOUT')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--idle-timeout <ms>', 'a connection moving no bytes closes after this (default 60000)')
      .env('BOSUN_IDLE_TIMEOUT')
      .argParser(positiveInt),
  )
  .addOption(
    new Option('--max-connections <n>', 'open connections per node, HTTP and HTTPS together (default 1024)')
      .env('BOSUN_MAX_CONNECTIONS')
      .argParser(positiveInt),
  )
  .addHelpText(
    'after',
    `
Environment (besides the options' own variables above):
  BOSUN_STORE            store URL, when --store is not given
  BOSUN_ETCD_CA_FILE, BOSUN_ETCD_CERT_FILE, BOSUN_ETCD_KEY_FILE   TLS to etcd (PEM files)
  BOSUN_ETCD_USER, BOSUN_ETCD_PASSWORD                            etcd authentication
  BOSUN_ADMIN_EMAIL      the first admin's email (default admin@bosun.local)
  BOSUN_ADMIN_PASSWORD   the first admin's password (default: generated and printed once)
  BOSUN_LOGIN_FAILURE_LIMIT  failed logins per client address per minute before 429 (default 30; 0: off)
  BOSUN_LOG_LEVEL        pino level (default info)
  BOSUN_METRICS_AUTH     1 or true: as --metrics-auth
  BOSUN_METRICS          0 or false: as --no-metrics

Examples:
  bosun node --uid 1
  bosun node start --uid 1 --data-dir /var/lib/bosun
  bosun node --uid 2 --store etcd://10.0.0.5:2379,10.0.0.6:2379 --host 0.0.0.0 --advertise-addr 10.0.0.12`,
  )
  // Loaded on demand: the node's server stack is not needed to talk to the API.
  .action(async (_start: string | undefined, opts: NodeCommandOptions) =>
    (await import('./node-command.js')).runNode(opts),
  );

program
  .command('start')
  .description('Start a local cluster of node processes and wait for Ctrl-C.')
  .option('--nodes <n>', 'how many nodes', positiveInt, 3)
  .option('--data-dir <dir>', 'the data folder', './data')
  .option('--store <url>', 'store URL (default sqlite:<data-dir>/bosun.db)')
  .option('--http-port <port>', 'base HTTP port: node i listens on port + i - 1', port, 8080)
  .option('--https-port <port>', 'base HTTPS port: node i listens on port + i - 1', port, 9443)
  .option('--lease-ttl <ms>', 'lease TTL in ms', positiveInt)
  .option(
    '--with-etcd',
    'first start a local 3-member etcd (ports 2379, 22379, 32379) and put the nodes on it',
  )
  .addHelpText(
    'after',
    '\nExamples:\n  npm start\n  npm start -- --nodes 5 --data-dir /tmp/bosun\n  npm run start:etcd        # bosun start --with-etcd',
  )
  .action(async (opts: LocalClusterOptions) =>
    (await import('../launcher/local-cluster.js')).startLocalCluster(opts),
  );

program
  .command('backup')
  .description("Copy the embedded SQLite store to a new file while the nodes run (SQLite's online backup).")
  .argument('<file>', 'the backup file to create (never overwritten)')
  .option('--data-dir <dir>', 'the data folder whose bosun.db to copy', './data')
  .option('--store <url>', 'sqlite:<path> (env BOSUN_STORE; default sqlite:<data-dir>/bosun.db)')
  .addHelpText(
    'after',
    `
A restore is a stopped cluster: stop every node on the host, replace bosun.db with the backup (and
delete bosun.db-wal and bosun.db-shm), start the nodes. An etcd store is backed up with
\`etcdctl snapshot save\` instead (docs/deploy.md).

Examples:
  bosun backup /var/backups/bosun-$(date +%F).db --data-dir /var/lib/bosun
  bosun backup ./bosun.backup.db`,
  )
  .action(async (file: string, opts: BackupCommandOptions) =>
    (await import('./backup-command.js')).runBackup(file, opts),
  );

// The API commands share the connection and output options, and their help shows them.
program
  .optionsGroup('Connection and output (every API command):')
  .option('--url <url>', `the API of any node (env BOSUN_URL; default ${DEFAULT_URL})`)
  .option('--user <email>', 'user email (env BOSUN_USER)')
  .option('--password <password>', 'password (env BOSUN_PASSWORD; asked for on a terminal when missing)')
  .addOption(
    new Option('--insecure', 'accept any HTTPS certificate, such as a self-signed one').conflicts(
      'pinSha256',
    ),
  )
  .option(
    '--pin-sha256 <fingerprint>',
    'accept only the HTTPS certificate with this SHA-256 fingerprint (env BOSUN_PIN_SHA256)',
  )
  .option(
    '--ca-cert <file>',
    "trust this PEM certificate or CA, e.g. a node's tls/cert.pem (env BOSUN_CA_CERT)",
  )
  .addOption(
    new Option('-o, --output <format>', 'text, or json for scripts')
      .choices(['text', 'json'])
      .default('text'),
  )
  .option('--no-color', 'no colour (colour is only used on a terminal, and never with NO_COLOR set)')
  .option('--timeout <ms>', 'per-request timeout in ms', positiveInt, 10_000)
  .configureHelp({ showGlobalOptions: true });

program.commandsGroup('Operate a cluster:');
registerStatus(program);
registerCluster(program);
registerActions(program);
registerUsers(program);
registerLogs(program);
registerEvents(program);

program.addHelpText(
  'after',
  `
Exit codes:
  0    success
  1    the action failed or was cancelled, or the server refused the request (its error_code says why)
  2    usage error: unknown command or option, bad argument
  3    authentication or permission error (401, 403, missing credentials)
  4    cannot connect: refused, unreachable, timed out, or an untrusted HTTPS certificate
  130  Ctrl-C while waiting (the action goes on)

Examples:
  export BOSUN_URL=http://127.0.0.1:8080 BOSUN_USER=admin@bosun.local BOSUN_PASSWORD=...
  bosun status
  bosun cluster master set 2
  bosun actions list -o json
  bosun --url https://127.0.0.1:9443 --pin-sha256 AB:CD:...:EF status`,
);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const cli = Cli.current;
  if (cli) {
    process.exitCode = await cli.report(err);
  } else {
    // `node` and `start`: a failed start; their servers may still hold the event loop.
    process.stderr.write(`bosun: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
} finally {
  Cli.current?.close();
}
