import { type Command } from 'commander';
import { type CommandContext } from '../context';
import { registerBeatsCommands } from './beats.commands';
import { registerIssuesCommands } from './issues.commands';
import { registerRunCommands } from './run.commands';
import { registerServerCommands } from './server.commands';
import { registerSourcesCommands } from './sources.commands';
import { registerSubscribersCommands } from './subscribers.commands';
import { registerTokensCommands } from './tokens.commands';
import { registerUsersCommands } from './users.commands';

/** Every command group of `broadsheet`, one file per area. */
export function registerCommands(program: Command, ctx: CommandContext): void {
  registerServerCommands(program, ctx);
  registerRunCommands(program, ctx);
  registerIssuesCommands(program, ctx);
  registerBeatsCommands(program, ctx);
  registerSubscribersCommands(program, ctx);
  registerSourcesCommands(program, ctx);
  registerUsersCommands(program, ctx);
  registerTokensCommands(program, ctx);
}
