import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Router, type Request, type Response } from 'express';
import { AppError } from '../../shared/errors.ts';
import { ArticleIdSchema, type Article } from '../../shared/schemas.ts';
import { DEMO_CSS, renderDemoPage, renderEmbedExample, renderNoDemoPage } from './demo-pages.ts';
import { sendError } from './errors.ts';

export interface StaticDeps {
  /** Article texts the server holds (the demo article when SEED_DEMO is on). */
  articles: ReadonlyMap<string, Article>;
  /** The article `GET /` shows. */
  demoArticleId: string;
  /** The built widget; defaults to client/dist/widget.js of this checkout. */
  widgetPath?: string;
}

/** Fresh enough for a deploy to reach readers within minutes; the ETag makes revalidation cheap. */
const WIDGET_CACHE_CONTROL = 'public, max-age=300';

/** client/dist/widget.js, seen from server/http (tsx) or from dist/server/http (compiled build). */
function defaultWidgetPath(): string {
  const candidates = ['../../client/dist/widget.js', '../../../client/dist/widget.js'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

interface WidgetAsset {
  mtimeMs: number;
  size: number;
  plain: Buffer;
  gzipped: Buffer;
  /** Strong validator of the file's bytes; the gzipped representation gets its own (`-gz`). */
  tag: string;
}

/** Reads widget.js once per build: a rebuild (new mtime or size) is picked up without a restart. */
function createWidgetLoader(path: string): () => WidgetAsset | null {
  let cached: WidgetAsset | null = null;
  return () => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return null;
    }
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const plain = readFileSync(path);
    const tag = createHash('sha256').update(plain).digest('base64url').slice(0, 27);
    cached = { mtimeMs: stat.mtimeMs, size: stat.size, plain, gzipped: gzipSync(plain, { level: 9 }), tag };
    return cached;
  };
}

/** `If-None-Match` names this representation (or `*`). */
function matches(req: Request, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const value = candidate.trim();
    return value === '*' || value === etag || value === `W/${etag}`;
  });
}

const HOST_PATTERN = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The URL of widget.js as the reader reached this server (behind a trusted proxy: its scheme and
 * host). A Host header that is not a plain host[:port] falls back to a relative URL.
 */
function widgetUrl(req: Request): string {
  const host = req.get('host');
  return host !== undefined && HOST_PATTERN.test(host) ? `${req.protocol}://${host}/widget.js` : '/widget.js';
}

function sendHtml(res: Response, html: string): void {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.send(html);
}

/**
 * `GET /widget.js` (the embeddable widget, cacheable and loadable from any origin), `GET /` (the
 * demo article with the widget embedded by the two-line snippet), `GET /embed-example` (the snippet
 * to copy) and `GET /demo.css`. Every text that reaches HTML is escaped.
 */
export function createStaticRouter({ articles, demoArticleId, widgetPath = defaultWidgetPath() }: StaticDeps): Router {
  const router = Router();
  const loadWidget = createWidgetLoader(widgetPath);
  const demoCss = Buffer.from(DEMO_CSS.trimStart());

  router.get('/widget.js', (req, res) => {
    const asset = loadWidget();
    if (asset === null) {
      sendError(res, new AppError('unavailable', 'widget.js has not been built: run npm run build:widget'));
      return;
    }
    const gzip = req.acceptsEncodings('gzip', 'identity') === 'gzip';
    const etag = `"${asset.tag}${gzip ? '-gz' : ''}"`;
    res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    res.setHeader('Cache-Control', WIDGET_CACHE_CONTROL);
    res.setHeader('ETag', etag);
    res.setHeader('Vary', 'Accept-Encoding');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (matches(req, etag)) {
      res.status(304).end();
      return;
    }
    const body = gzip ? asset.gzipped : asset.plain;
    if (gzip) res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', String(body.length));
    res.status(200).end(req.method === 'HEAD' ? undefined : body);
  });

  router.get('/', (req, res) => {
    const article = articles.get(demoArticleId);
    sendHtml(res, article ? renderDemoPage(article, widgetUrl(req)) : renderNoDemoPage());
  });

  router.get('/embed-example', (req, res) => {
    const requested = ArticleIdSchema.safeParse(req.query.article);
    sendHtml(res, renderEmbedExample(widgetUrl(req), requested.success ? requested.data : 'my-article-slug'));
  });

  router.get('/demo.css', (_req, res) => {
    res.setHeader('Content-Type', 'text/css; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.send(demoCss);
  });

  return router;
}
