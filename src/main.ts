import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createApp, editorSignInLines, runDemoIfEmpty } from './bootstrap';
import { ConfigError, loadConfig } from './kernel/config/config';

async function main(): Promise<void> {
  // A .env file beside the project is read if present; variables already set in the environment win.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${error.message}\nSee .env.example for every variable and its format.`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  await app.init();
  await runDemoIfEmpty(app, config);
  await app.listen(config.server.port, config.server.host);
  const base = config.server.publicUrl;
  const signIn = await editorSignInLines(app);
  const lines = [
    '',
    `Broadsheet is running on ${base}`,
    `  stories          ${base}/`,
    `  weekly issues    ${base}/issues`,
    `  feeds            ${base}/feed.xml  ${base}/atom.xml  ${base}/feed.json`,
    `  health           ${base}/health`,
    ...signIn,
    `  database         ${config.database.url ? 'PostgreSQL server (DATABASE_URL)' : `embedded PostgreSQL in ${config.database.embeddedDir}`}`,
    config.email.resend ? '  email            Resend' : `  email outbox     ${config.email.outboxDir} (one .eml file per message)`,
    `  narratives       ${config.anthropic.apiKey ? `Claude (${config.anthropic.model})` : 'offline drafts (set ANTHROPIC_API_KEY to write with Claude)'}`,
    '',
  ];
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(`Broadsheet failed to start: ${(error as Error).message}`);
  process.exit(1);
});
