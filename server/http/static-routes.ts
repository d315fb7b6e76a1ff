import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Router, type Request, type Response } from 'express';
import { AppError } from '../../shared/errors.ts';
import { LANGUAGES } from '../../shared/i18n.ts';
import { ArticleIdSchema, LIMITS, type Article } from '../../shared/schemas.ts';
import {
  adminCsp,
  DEMO_CSS,
  renderAdminPage,
  renderArticleList,
  renderArticlePage,
  renderDemoPage,
  renderEmbedExample,
  renderNoDemoPage,
} from './demo-pages.ts';
import { sendError } from './errors.ts';

export interface StaticDeps {
  /** Article texts the server holds (the demo article when SEED_DEMO is on). */
  articles: ReadonlyMap<string, Article>;
  /** The article `GET /` shows. */
  demoArticleId: string;
  /** Serve the demo pages (DEMO_PAGES); without them only the scripts and the admin page are served. */
  demoPages?: boolean;
  /** The built widget; defaults to client/dist/widget.js of this checkout. */
  widgetPath?: string;
  /** The built admin page script and count script; default to client/dist/admin.js and count.js. */
  adminPath?: string;
  countPath?: string;
}

/** Fresh enough for a deploy to reach readers within minutes; the ETag makes revalidation cheap. */
const WIDGET_CACHE_CONTROL = 'public, max-age=300';

/** A bundle of client/dist, seen from server/http (tsx) or from dist/server/http (compiled build). */
function defaultBundlePath(file: string): string {
  const candidates = [`../../client/dist/${file}`, `../../../client/dist/${file}`].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
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

/** Reads a bundle once per build: a rebuild (new mtime or size) is picked up without a restart. */
function createBundleLoader(path: string): () => WidgetAsset | null {
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

/** The Host header when it is a plain host[:port]; undefined otherwise. */
function safeHost(req: Request): string | undefined {
  const host = req.get('host');
  return host !== undefined && HOST_PATTERN.test(host) ? host : undefined;
}

/**
 * The URL of a script of this server as the reader reached it (behind a trusted proxy: its scheme
 * and host). A Host header that is not a plain host[:port] falls back to a relative URL.
 */
function scriptUrl(req: Request, file: string): string {
  const host = safeHost(req);
  return host !== undefined ? `${req.protocol}://${host}/${file}` : `/${file}`;
}

const widgetUrl = (req: Request) => scriptUrl(req, 'widget.js');

function sendHtml(res: Response, html: string): void {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.send(html);
}

/**
 * Sends a bundle as cacheable JavaScript any page may load with a plain script tag (or, with its
 * `type`, a language table any page may fetch), gzipped when accepted, with an ETag.
 */
function sendBundle(
  req: Request,
  res: Response,
  asset: WidgetAsset | null,
  file: string,
  type = 'text/javascript; charset=utf-8',
): void {
  if (asset === null) {
    sendError(res, new AppError('unavailable', `${file} has not been built: run npm run build:widget`));
    return;
  }
  const gzip = req.acceptsEncodings('gzip', 'identity') === 'gzip';
  const etag = `"${asset.tag}${gzip ? '-gz' : ''}"`;
  res.setHeader('Content-Type', type);
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
}

/** Article ids a list page is asked to show (`?articles=a,b`): the valid ones, at most 100. */
function listedArticles(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  const ids = value.split(',').filter((id) => ArticleIdSchema.safeParse(id).success);
  return [...new Set(ids)].slice(0, LIMITS.countsMax);
}

/**
 * `GET /widget.js` (the embeddable widget, and its parts loaded on first use: `GET /widget-own.js`,
 * the edit and delete forms, `GET /widget-member.js`, sign-in from the host site, `GET /widget-report.js`,
 * the Report form, `GET /widget-polling.js`, HTTP long-polling after a WebSocket failed, `GET /widget-notify.js`,
 * "Email me when someone replies" when the server sends reply e-mails, `GET /widget-typing.js`, typing
 * indicators, and `GET /widget-permalink.js`, the Link action and `#comment-<id>`), `GET /i18n/<lang>.json`
 * (the widget's language tables, fetched by widget.js; `/i18n/admin/<lang>.json`, the /admin page's), `GET /count.js` (live counts for list pages) and
 * `GET /admin.js`, all cacheable and loadable from any origin; `GET /` (the demo article with the
 * widget embedded by the two-line snippet), `GET /articles` (a list page with live counts by
 * count.js), `GET /articles/:articleId` (a demo page for any thread), `GET /embed-example` (the
 * snippets to copy), `GET /admin` (the moderators' page, under a strict CSP that no page may frame)
 * and `GET /demo.css`. Every text that reaches HTML is escaped. With `demoPages` off (DEMO_PAGES=false)
 * only the scripts and `/admin` are served: the rest answer 404.
 */
export function createStaticRouter({
  articles,
  demoArticleId,
  demoPages = true,
  widgetPath = defaultBundlePath('widget.js'),
  adminPath = defaultBundlePath('admin.js'),
  countPath = defaultBundlePath('count.js'),
}: StaticDeps): Router {
  const router = Router();
  const bundles = {
    'widget.js': createBundleLoader(widgetPath),
    'admin.js': createBundleLoader(adminPath),
    'count.js': createBundleLoader(countPath),
    // The widget's parts loaded on first use (client/parts.ts), from the same folder as widget.js.
    'widget-own.js': createBundleLoader(defaultBundlePath('widget-own.js')),
    'widget-member.js': createBundleLoader(defaultBundlePath('widget-member.js')),
    'widget-report.js': createBundleLoader(defaultBundlePath('widget-report.js')),
    'widget-polling.js': createBundleLoader(defaultBundlePath('widget-polling.js')),
    'widget-notify.js': createBundleLoader(defaultBundlePath('widget-notify.js')),
    'widget-typing.js': createBundleLoader(defaultBundlePath('widget-typing.js')),
    'widget-permalink.js': createBundleLoader(defaultBundlePath('widget-permalink.js')),
  };
  const demoCss = Buffer.from(DEMO_CSS.trimStart());

  for (const [file, load] of Object.entries(bundles))
    router.get(`/${file}`, (req, res) => sendBundle(req, res, load(), file));

  // The widget's languages other than English (shared/i18n.ts), fetched by widget.js on demand.
  const tables = new Map(
    LANGUAGES.filter((lang) => lang !== 'en').map((lang) => [
      `${lang}.json`,
      createBundleLoader(defaultBundlePath(`i18n/${lang}.json`)),
    ]),
  );
  router.get('/i18n/:file', (req, res, next) => {
    const load = tables.get(req.params.file);
    if (!load) return next();
    sendBundle(req, res, load(), `i18n/${req.params.file}`, 'application/json; charset=utf-8');
  });
  // The /admin page's own words in those languages (client/i18n/admin/<lang>.json), fetched by admin.js.
  const adminTables = new Map(
    LANGUAGES.filter((lang) => lang !== 'en').map((lang) => [
      `${lang}.json`,
      createBundleLoader(defaultBundlePath(`i18n/admin/${lang}.json`)),
    ]),
  );
  router.get('/i18n/admin/:file', (req, res, next) => {
    const load = adminTables.get(req.params.file);
    if (!load) return next();
    sendBundle(req, res, load(), `i18n/admin/${req.params.file}`, 'application/json; charset=utf-8');
  });

  router.get('/admin', (req, res) => {
    // `/admin/` would resolve the page's relative `admin.js` to `/admin/admin.js`: send it to `/admin`
    // (relatively, so a prefix the server is served under is kept).
    if (req.path.endsWith('/')) return res.redirect(301, '../admin');
    // Stricter than every other page: nothing inline, nothing from elsewhere, never in a frame.
    const host = safeHost(req);
    res.setHeader(
      'Content-Security-Policy',
      adminCsp(host === undefined ? [] : [`${req.protocol === 'https' ? 'wss' : 'ws'}://${host}`]),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.send(renderAdminPage());
  });

  if (!demoPages) return router;

  router.get('/articles', (req, res) => {
    const ids = [...articles.keys(), ...listedArticles(req.query.articles)];
    const list = [...new Set(ids)].map((articleId) => ({ articleId, title: articles.get(articleId)?.title ?? null }));
    sendHtml(res, renderArticleList(list, scriptUrl(req, 'count.js')));
  });

  router.get('/articles/:articleId', (req, res, next) => {
    const parsed = ArticleIdSchema.safeParse(req.params.articleId);
    if (!parsed.success) return next();
    const article = articles.get(parsed.data);
    sendHtml(res, article ? renderDemoPage(article, widgetUrl(req)) : renderArticlePage(parsed.data, widgetUrl(req)));
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
