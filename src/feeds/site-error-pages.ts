import { Inject, Injectable } from '@nestjs/common';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { ErrorPages } from '../kernel/errors/error-pages.port';
import { messagePage, notFoundPage } from './pages/site-pages';
import { siteInfo } from './pages/views';

/** The site's error pages (masthead and all) for the kernel's error filter: an unknown URL, a too-large form, … */
@Injectable()
export class SiteErrorPages extends ErrorPages {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super();
  }

  render(error: { status: number; title: string; detail: string }): string {
    const site = siteInfo(this.config);
    if (error.status === 404) return notFoundPage(site).toString();
    const title = error.status >= 500 ? 'Something went wrong' : error.status === 429 ? 'Please slow down' : 'This did not work';
    return messagePage(site, { title, message: error.detail }).toString();
  }
}
