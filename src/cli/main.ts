/** The `bosun` command line. */
import { Command, InvalidArgumentError } from 'commander';

import { startLocalCluster } from '../launcher/local-cluster.js';
import { version } from '../version.js';
import { runNode } from './node-command.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return n;
}

function port(value: string): number {
  const n = positiveInt(value);
  if (n > 65535) throw new InvalidArgumentError('expected a port number (1-65535)');
  return n;
}

const program = new Command()
  .name('bosun')
  .description('A cluster control plane that speaks the Redis Enterprise v1 REST API for cluster actions.')
  .version(version)
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('node')
  .description('Run one node process in the foreground.')
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
  .option('--prefix <prefix>', "the cluster's key prefix in the store", '/bosun/')
  .option('--host <addr>', 'the address to listen on', '127.0.0.1')
  .option('--advertise-addr <addr>', 'the address others reach this node at (default: --host)')
  .option('--http-port <port>', 'HTTP port (default 8080 + uid - 1)', port)
  .option('--https-port <port>', 'HTTPS port (default 9443 + uid - 1)', port)
  .option('--lease-ttl <ms>', 'membership and master lease TTL in ms', positiveInt)
  .option('--handover-timeout <ms>', 'how long change_master waits for the target to take over', positiveInt)
  .addHelpText(
    'after',
    `
Environment:
  BOSUN_STORE            store URL, when --store is not given
  BOSUN_ADMIN_EMAIL      the first admin's email (default admin@bosun.local)
  BOSUN_ADMIN_PASSWORD   the first admin's password (default: generated and printed once)
  BOSUN_LOG_LEVEL        pino level (default info)

Examples:
  bosun node --uid 1
  bosun node --uid 2 --store etcd://10.0.0.5:2379,10.0.0.6:2379 --host 0.0.0.0 --advertise-addr 10.0.0.12`,
  )
  .action(runNode);

program
  .command('start')
  .description('Start a local cluster of node processes and wait for Ctrl-C.')
  .option('--nodes <n>', 'how many nodes', positiveInt, 3)
  .option('--data-dir <dir>', 'the data folder', './data')
  .option('--store <url>', 'store URL (default sqlite:<data-dir>/bosun.db)')
  .option('--http-port <port>', 'base HTTP port: node i listens on port + i - 1', port, 8080)
  .option('--https-port <port>', 'base HTTPS port: node i listens on port + i - 1', port, 9443)
  .option('--lease-ttl <ms>', 'lease TTL in ms', positiveInt)
  .addHelpText('after', '\nExamples:\n  npm start\n  npm start -- --nodes 5 --data-dir /tmp/bosun')
  .action(startLocalCluster);

await program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bosun: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
