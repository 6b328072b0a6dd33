import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { isNotModified, toHttpDate } from './conditional-get';
import { FeedsService, type ServedFeed } from './feeds.service';
import { sendHtml } from './html-response';
import { notFoundPage } from './pages/site-pages';

const FEED_CACHE_CONTROL = 'public, max-age=300';

/** RSS, Atom and JSON Feed documents, each with a strong ETag, Last-Modified and 304 answers. */
@Controller()
export class FeedsController {
  constructor(private readonly feeds: FeedsService) {}

  @Get('feed.xml')
  async rss(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(req, res, await this.feeds.storiesFeed('rss'));
  }

  @Get('atom.xml')
  async atom(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(req, res, await this.feeds.storiesFeed('atom'));
  }

  @Get('feed.json')
  async json(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(req, res, await this.feeds.storiesFeed('json'));
  }

  // Registered before SiteController's `/issues/:number` (see FeedsModule), so it wins.
  @Get('issues/feed.xml')
  async issues(@Req() req: Request, @Res() res: Response): Promise<void> {
    send(req, res, await this.feeds.issuesFeed());
  }

  @Get('beats/:slug/feed.xml')
  async beat(@Param('slug') slug: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const feed = slug.length <= 200 ? await this.feeds.beatFeed(slug) : null;
    if (!feed) return sendHtml(res, 404, notFoundPage(this.feeds.site, 'beat'));
    send(req, res, feed);
  }
}

function send(req: Request, res: Response, feed: ServedFeed): void {
  res.setHeader('ETag', feed.etag);
  if (feed.lastModified) res.setHeader('Last-Modified', toHttpDate(feed.lastModified));
  res.setHeader('Cache-Control', FEED_CACHE_CONTROL);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const notModified = isNotModified(
    { ifNoneMatch: req.headers['if-none-match'], ifModifiedSince: req.headers['if-modified-since'] },
    { etag: feed.etag, lastModified: feed.lastModified },
  );
  if (notModified) {
    res.status(304).end();
    return;
  }
  const body = Buffer.from(feed.body, 'utf8');
  res.status(200);
  res.setHeader('Content-Type', feed.contentType);
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}
