import { type Command, Option } from 'commander';
import { CLI_SOURCE } from '../../admin/auth/actor';
import { ROLES } from '../../admin/auth/role';
import { TokensService } from '../../admin/auth/tokens.service';
import { type CommandContext } from '../context';

export function registerTokensCommands(program: Command, ctx: CommandContext): void {
  const tokens = program.command('tokens').description('API tokens for /api/v1 (Authorization: Bearer …)');

  tokens
    .command('create')
    .description('create a token and print it once (it is stored only as a hash)')
    .requiredOption('--name <name>', 'what the token is for')
    .addOption(new Option('--role <role>', 'what the token may do').choices([...ROLES]).makeOptionMandatory())
    .action(
      ctx.action(async (options: { name: string; role: string }) => {
        const { token, secret } = await (await ctx.get(TokensService)).create({ name: options.name, role: options.role }, CLI_SOURCE);
        ctx.output.result({ id: token.id, name: token.name, role: token.role, token: secret }, (t) => [
          `created ${t.role} token "${t.name}" (${t.id})`,
          t.token,
          'copy it now: it is not shown again',
        ]);
      }),
    );

  tokens
    .command('list')
    .description('every token: name, role, last use, revoked or not (never the token itself)')
    .action(
      ctx.action(async () => {
        const list = await (await ctx.get(TokensService)).list();
        ctx.output.result(list, (all) =>
          all.length === 0
            ? 'no tokens yet'
            : all.map(
                (t) =>
                  `${t.id}  ${t.name.padEnd(24)} ${t.role.padEnd(7)} ${t.prefix}…  ${t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : `last used ${t.lastUsedAt ? t.lastUsedAt.toISOString() : 'never'}`}`,
              ),
        );
      }),
    );

  tokens
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<id>', 'the token’s id (from tokens list)')
    .action(
      ctx.action(async (id: string) => {
        const token = await (await ctx.get(TokensService)).revoke(id, CLI_SOURCE);
        ctx.output.result(token, (t) => `revoked token "${t.name}" (${t.id})`);
      }),
    );
}
