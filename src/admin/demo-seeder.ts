import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { NarrativesService } from '../narratives/narratives.service';
import { Platform, SourceKind, SourcesService } from '../sources/sources.service';
import { SubscribersService } from '../subscribers/subscribers.service';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a lowercase slug');
const manifestSchema = z.object({
  beats: z.array(z.object({ slug, name: z.string().min(1), description: z.string(), keywords: z.array(z.string()) })).min(1),
  sources: z.array(
    z.object({ slug, name: z.string().min(1), platform: z.enum(Platform), kind: z.literal(SourceKind.File), path: z.string().min(1), beats: z.array(slug) }),
  ),
});

/** Fictional readers of the demo issue; `.example` addresses can never reach a real inbox. */
export const DEMO_SUBSCRIBERS = ['ada.reader@example.com', 'bram.fields@example.com', 'chioma.o@example.com', 'dev.patel@example.com', 'elin.berg@example.com'];

/** Loads the bundled demo week's beats, sources and readers from `<import dir>/manifest.json`. */
@Injectable()
export class DemoSeeder {
  private readonly logger = new Logger(DemoSeeder.name);

  constructor(
    private readonly sources: SourcesService,
    private readonly narratives: NarrativesService,
    private readonly subscribers: SubscribersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async isEmpty(): Promise<boolean> {
    return (await this.sources.countRecords()) === 0 && (await this.narratives.count()) === 0;
  }

  async seed(): Promise<void> {
    const file = join(this.config.sources.importDir, 'manifest.json');
    const parsed = manifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is not a valid demo manifest: ${z.prettifyError(parsed.error)}`);
    const manifest = parsed.data;
    await this.narratives.registerBeats(manifest.beats.map(({ slug, name, description, keywords }) => ({ slug, name, description, keywords })));
    await this.sources.register(
      manifest.sources.map((s) => ({ slug: s.slug, name: s.name, platform: s.platform, kind: s.kind, location: s.path, beatSlugs: s.beats })),
    );
    await this.subscribers.seedActive(DEMO_SUBSCRIBERS, 'demo-seed');
    this.logger.log(`demo: ${manifest.beats.length} beats, ${manifest.sources.length} sources, ${DEMO_SUBSCRIBERS.length} readers`);
  }
}
