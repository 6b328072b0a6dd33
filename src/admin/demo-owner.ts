import { chmod, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { AccountsService } from './auth/accounts.service';
import { Role } from './auth/role';

export const DEMO_OWNER_EMAIL = 'owner@example.com';

/**
 * On the demo, the first start creates an owner account with a generated password, kept in
 * `$DATA_DIR/demo-owner-password` (mode 0600) so later starts can print it again while it is still valid.
 */
@Injectable()
export class DemoOwner {
  constructor(
    private readonly accounts: AccountsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get file(): string {
    return join(this.config.dataDir, 'demo-owner-password');
  }

  /** Creates the demo owner when DEMO is on and there is no account yet. */
  async ensure(): Promise<void> {
    if (!this.config.demo || (await this.accounts.countUsers()) > 0) return;
    const { generatedPassword } = await this.accounts.createUser(
      { email: DEMO_OWNER_EMAIL, role: Role.Owner },
      { actor: 'demo', actorKind: 'system', ip: null, userAgent: null },
    );
    await mkdir(this.config.dataDir, { recursive: true });
    await writeFile(this.file, `${generatedPassword}\n`, { mode: 0o600 });
    await chmod(this.file, 0o600);
  }

  /** The startup banner's lines on how editors sign in. */
  async signInLines(): Promise<string[]> {
    const login = `${this.config.server.publicUrl}/admin/login`;
    const api = `${this.config.server.publicUrl}/api/docs`;
    if (this.config.demo) {
      const password = await readFile(this.file, 'utf8').then(
        (s) => s.trim(),
        () => null,
      );
      if (password && (await this.accounts.passwordMatches(DEMO_OWNER_EMAIL, password))) {
        return [`  editors          ${login}`, `                   email ${DEMO_OWNER_EMAIL}  password ${password}`, `  editor API       ${api}`];
      }
    }
    if ((await this.accounts.countUsers()) === 0) {
      return [`  editors          ${login}  (no account yet: npx broadsheet users create --email you@example.com --role owner)`, `  editor API       ${api}`];
    }
    return [`  editors          ${login}`, `  editor API       ${api}`];
  }
}
