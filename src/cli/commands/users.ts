/** `bosun users list | create | delete | set-role`. */
import { randomBytes } from 'node:crypto';

import { InvalidArgumentError, type Command } from 'commander';

import { isRole, roles, type BosunClient, type Role, type User } from '../../client/index.js';
import { Cli, CliError, ExitCode } from '../context.js';
import { table } from '../output.js';

export function parseRole(value: string): Role {
  if (!isRole(value)) {
    throw new InvalidArgumentError(`'${value}' is not a role; roles are ${roles.join(', ')}`);
  }
  return value;
}

/** A user by uid (digits), or by email or name (any case), the two identifiers a user signs in with. */
async function findUser(client: BosunClient, ref: string): Promise<User> {
  if (/^[0-9]+$/.test(ref)) return client.user(Number(ref));
  const wanted = ref.toLowerCase();
  const list = await client.users();
  const found =
    list.find((u) => u.email.toLowerCase() === wanted) ?? list.find((u) => u.name.toLowerCase() === wanted);
  if (!found) throw new CliError(`user_not_exist: no user with email or name ${ref}`, ExitCode.failed);
  return found;
}

/** How a user is named in messages: the email, or the name of a user who has none. */
const label = (u: User): string => u.email || u.name;

export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description('Manage the users of the REST API (needs the user_manager or admin role).')
    .addHelpText(
      'after',
      `
Roles: ${roles.join(', ')}.

Examples:
  bosun users list
  bosun users create ops@example.com --role cluster_viewer
  bosun users set-role ops@example.com admin
  bosun users delete ops@example.com`,
    );

  users
    .command('list')
    .description('Every user.')
    .addHelpText('after', "\nExamples:\n  bosun users list\n  bosun users list -o json | jq -r '.[].email'")
    .action(async (_opts: unknown, cmd: Command) => {
      const cli = Cli.of(cmd);
      const list = await (await cli.client()).users();
      if (cli.json) return cli.printJson(list);
      cli.print(
        table(
          ['UID', 'EMAIL', 'NAME', 'ROLE'],
          list.map((u) => [String(u.uid), u.email, u.name, u.role]),
        ),
      );
    });

  users
    .command('create')
    .description('Create a user. Without --new-password, a password is generated and printed once.')
    .argument('<email>', "the user's email, used to log in")
    .option('--name <name>', 'display name (default: the email)')
    .option('--role <role>', `one of ${roles.join(', ')}`, parseRole, 'db_viewer' as Role)
    .option('--new-password <password>', "the user's password (at least 8 characters)")
    .addHelpText(
      'after',
      `
Examples:
  bosun users create ops@example.com --role cluster_viewer
  bosun users create admin2@example.com --role admin --name "Second admin" --new-password 's3cret-pass'`,
    )
    .action(
      async (email: string, opts: { name?: string; role: Role; newPassword?: string }, cmd: Command) => {
        const cli = Cli.of(cmd);
        const generated = opts.newPassword === undefined;
        const password = opts.newPassword ?? randomBytes(15).toString('base64url');
        const user = await (
          await cli.client()
        ).createUser({
          email,
          password,
          role: opts.role,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
        });
        if (cli.json) return cli.printJson(generated ? { ...user, password } : user);
        cli.print(`Created user ${user.uid}: ${user.email} (${user.role})`);
        if (generated) cli.print(`Password: ${password}  (generated; shown only this once)`);
      },
    );

  users
    .command('delete')
    .description('Delete a user, by email, name or uid.')
    .argument('<email|name|uid>', 'the user')
    .addHelpText('after', '\nExamples:\n  bosun users delete ops@example.com\n  bosun users delete 3')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const user = await findUser(client, ref);
      await client.deleteUser(user.uid);
      if (cli.json) return cli.printJson(user);
      cli.print(`Deleted user ${user.uid}: ${label(user)}`);
    });

  users
    .command('set-role')
    .description("Change a user's role, by email, name or uid.")
    .argument('<email|name|uid>', 'the user')
    .argument('<role>', `one of ${roles.join(', ')}`, parseRole)
    .addHelpText(
      'after',
      '\nExamples:\n  bosun users set-role ops@example.com cluster_member\n  bosun users set-role 3 admin',
    )
    .action(async (ref: string, role: Role, _opts: unknown, cmd: Command) => {
      const cli = Cli.of(cmd);
      const client = await cli.client();
      const user = await findUser(client, ref);
      const updated = await client.updateUser(user.uid, { role });
      if (cli.json) return cli.printJson(updated);
      cli.print(`User ${updated.uid} (${label(updated)}) now has the role ${updated.role}`);
    });
}
