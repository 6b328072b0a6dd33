import { type Command, Option } from 'commander';
import { AccountsService } from '../../admin/auth/accounts.service';
import { CLI_SOURCE } from '../../admin/auth/actor';
import { ROLES } from '../../admin/auth/role';
import { type CommandContext } from '../context';
import { UsageError } from '../errors';

/** The whole of stdin, without the final newline (for `--password-stdin`: `printf %s "$PW" | broadsheet …`). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerUsersCommands(program: Command, ctx: CommandContext): void {
  const users = program.command('users').description('editor accounts for /admin');

  users
    .command('create')
    .description('create an editor account (prints a generated password once unless --password-stdin)')
    .requiredOption('--email <email>', 'the account’s email address')
    .addOption(new Option('--role <role>', 'what the account may do').choices([...ROLES]).makeOptionMandatory())
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .action(
      ctx.action(async (options: { email: string; role: string; passwordStdin?: boolean }) => {
        const password = options.passwordStdin ? await readStdin() : undefined;
        if (options.passwordStdin && !password) throw new UsageError('--password-stdin was given but standard input was empty');
        const { user, generatedPassword } = await (
          await ctx.get(AccountsService)
        ).createUser({ email: options.email, role: options.role, password }, CLI_SOURCE);
        const login = `${ctx.config().server.publicUrl}/admin/login`;
        ctx.output.result({ id: user.id, email: user.email, role: user.role, password: generatedPassword, login }, (r) => [
          `created ${r.role} ${r.email}`,
          ...(r.password ? [`password: ${r.password}  (shown once; change it with "Forgot your password?")`] : []),
          `sign in at ${r.login}`,
        ]);
      }),
    );

  users
    .command('list')
    .description('every editor account')
    .action(
      ctx.action(async () => {
        const list = await (await ctx.get(AccountsService)).listUsers();
        ctx.output.result(
          list.map((u) => ({ id: u.id, email: u.email, role: u.role, lastLoginAt: u.lastLoginAt, lockedUntil: u.lockedUntil })),
          (all) =>
            all.length === 0
              ? 'no accounts yet'
              : all.map((u) => `${u.email.padEnd(36)} ${u.role.padEnd(7)} last sign-in ${u.lastLoginAt ? u.lastLoginAt.toISOString() : 'never'}`),
        );
      }),
    );
}
