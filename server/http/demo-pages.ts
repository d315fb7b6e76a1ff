import type { Article } from '../../shared/schemas.ts';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The two lines a site owner pastes into a page: the script from this server, and the element. */
export function embedSnippet(widgetUrl: string, articleId: string): string {
  return `<script src="${escapeHtml(widgetUrl)}" async></script>\n<live-comments article="${escapeHtml(articleId)}"></live-comments>`;
}

/** A live count on a list page: an element per article, and count.js once per page. */
export function countSnippet(countUrl: string, articleId: string, href: string): string {
  return `<a href="${escapeHtml(href)}" data-live-comments-count="${escapeHtml(articleId)}" data-live-comments-template="{n} comments" data-live-comments-template-one="{n} comment">comments</a>\n<script src="${escapeHtml(countUrl)}" async></script>`;
}

/** The count element alone, as a list page repeats it per article. */
function countLink(articleId: string, href: string): string {
  return `<a href="${escapeHtml(href)}" data-live-comments-count="${escapeHtml(articleId)}" data-live-comments-template="{n} comments" data-live-comments-template-one="{n} comment">comments</a>`;
}

/** The demo pages' own stylesheet (served at /demo.css; the pages carry no inline styles). */
export const DEMO_CSS = `
:root { color-scheme: light dark; --fg: #1d2126; --muted: #5b6470; --bg: #fbfbfa; --rule: #d7dce2; --accent: #0a5fc2; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7eaee; --muted: #a1aab5; --bg: #0f1115; --rule: #343a44; --accent: #7ab0ff; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 18px/1.65 Georgia, "Times New Roman", serif; }
a { color: var(--accent); }
.site { font: 15px/1.4 system-ui, sans-serif; padding: 0.9rem 1.25rem; border-bottom: 1px solid var(--rule); display: flex; gap: 1rem; flex-wrap: wrap; }
.site strong { margin-right: auto; }
main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { font-size: 2.1rem; line-height: 1.2; margin: 1rem 0 1.5rem; }
h2 { font-size: 1.35rem; margin: 2rem 0 0.5rem; }
.comments { margin-top: 3rem; }
.articles { padding: 0; list-style: none; }
.articles li { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0.25rem 1rem; padding: 0.6rem 0; border-bottom: 1px solid var(--rule); }
.articles .count { font: 0.9rem/1.6 system-ui, sans-serif; color: var(--muted); }
.lead { color: var(--muted); }
.comments > h2 { font: 600 0.8rem/1.4 system-ui, sans-serif; letter-spacing: 0.08em; text-transform: uppercase; color: var(--muted); margin: 0 0 0.75rem; }
pre { background: rgb(127 127 127 / 0.12); padding: 1rem; border-radius: 8px; overflow-x: auto; font-size: 0.85rem; line-height: 1.5; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; font-size: 0.9rem; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--rule); }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/demo.css">
</head>
<body>
<header class="site"><strong>Live Comments</strong><a href="/">Demo article</a><a href="/articles">Articles</a><a href="/embed-example">Embed on your site</a><a href="/admin">Moderation</a></header>
<main>
${body}
</main>
</body>
</html>
`;
}

/** The sample article with its comment thread, embedded exactly as a site owner would embed it. */
export function renderDemoPage(article: Article, widgetUrl: string): string {
  const sections = article.sections
    .map((section) =>
      [
        section.heading === null ? '' : `<h2>${escapeHtml(section.heading)}</h2>`,
        ...section.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
      ]
        .filter(Boolean)
        .join('\n'),
    )
    .join('\n');
  return page(
    article.title,
    `<article>
<h1>${escapeHtml(article.title)}</h1>
${sections}
</article>
<section class="comments" aria-label="Reader comments">
<h2>Reader comments</h2>
${embedSnippet(widgetUrl, article.articleId)}
</section>`,
  );
}

/** A demo page for any thread id: a heading and the widget, embedded by the two-line snippet. */
export function renderArticlePage(articleId: string, widgetUrl: string): string {
  return page(
    articleId,
    `<h1>${escapeHtml(articleId)}</h1>
<p class="lead">A demo page for the thread <code>${escapeHtml(articleId)}</code>: every page that embeds this id shows the same comments.</p>
<section class="comments" aria-label="Reader comments">
<h2>Reader comments</h2>
${embedSnippet(widgetUrl, articleId)}
</section>`,
  );
}

/**
 * An article list with a live comment count next to each article, filled and kept live by count.js
 * (`?articles=a,b,c` lists more thread ids; links lead to each thread's demo page).
 */
export function renderArticleList(
  articles: ReadonlyArray<{ articleId: string; title: string | null }>,
  countUrl: string,
): string {
  const items = articles
    .map(({ articleId, title }) => {
      const href = `/articles/${encodeURIComponent(articleId)}`;
      return `<li><a href="${escapeHtml(href)}">${escapeHtml(title ?? articleId)}</a><span class="count">${countLink(articleId, `${href}#comments`)}</span></li>`;
    })
    .join('\n');
  return page(
    'Articles',
    `<h1>Articles</h1>
<p class="lead">Comment counts on this list are live: <code>count.js</code> keeps them up to date as readers comment. Add <code>?articles=slug-a,slug-b</code> to the address to list other threads.</p>
${articles.length > 0 ? `<ul class="articles">\n${items}\n</ul>` : '<p>No articles to list. Add <code>?articles=slug-a,slug-b</code> to the address.</p>'}
<script src="${escapeHtml(countUrl)}" async></script>`,
  );
}

/**
 * The Content-Security-Policy of /admin: its own script and stylesheet (adopted by that script) and
 * connections to this server only, no inline code, no plugins, no `<base>`, no form posts anywhere,
 * and no page may frame it. `sockets` are the ws(s) origins of this server (older browsers do not
 * match WebSockets by 'self').
 */
export function adminCsp(sockets: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${sockets.join(' ')}`.trim(),
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The moderators' page: the markup admin.js fills (sign-in first; the token is typed, never in the URL). */
export function renderAdminPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>Moderation · Live Comments</title>
<link rel="icon" href="data:,">
<script src="admin.js" defer></script>
</head>
<body>
<header class="site"><strong>Live Comments · Moderation</strong><a href="/">Demo article</a><a href="/articles">Articles</a></header>
<main>
<h1>Moderation</h1>
<div id="admin"><noscript>The moderation page needs JavaScript.</noscript></div>
</main>
</body>
</html>
`;
}

/** Shown at / when the server runs without the sample article (SEED_DEMO=false). */
export function renderNoDemoPage(): string {
  return page(
    'Live Comments',
    `<h1>Live Comments</h1>\n<p>This server runs without the sample article (<code>SEED_DEMO=false</code>). See <a href="/embed-example">how to embed the comments</a> on your own pages.</p>`,
  );
}

/** How to embed the widget: the snippet to copy, its attributes and theming properties, and live counts for lists. */
/** The sign-in example of /embed-example: the element with a member token, and the page's hooks. */
function ssoSnippet(articleId: string): string {
  return `<live-comments article="${articleId}" sso-token="TOKEN_FROM_YOUR_BACKEND"></live-comments>
<script>
  const comments = document.querySelector('live-comments');
  comments.refreshSsoToken = async () => (await fetch('/comments-token')).text(); // your route; null: signed out
  addEventListener('live-comments:login-required', (event) => {
    event.preventDefault(); // your own sign-in instead of the link to SSO_LOGIN_URL
    location.href = '/login';
  });
</script>`;
}

export function renderEmbedExample(widgetUrl: string, articleId: string): string {
  const countUrl = widgetUrl.replace(/widget\.js$/, 'count.js');
  const rows = (items: ReadonlyArray<readonly [string, string]>) =>
    items
      .map(([name, meaning]) => `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(meaning)}</td></tr>`)
      .join('\n');
  return page(
    'Embed Live Comments',
    `<h1>Embed the comments on your page</h1>
<p>Paste these two lines where the comments should appear. Use one article id per page (1–128 characters of <code>A-Z a-z 0-9 . _ : -</code>, starting with a letter or digit); the same id on two pages shows the same thread.</p>
<pre><code>${escapeHtml(embedSnippet(widgetUrl, articleId))}</code></pre>
<h2>Attributes</h2>
<table>
<thead><tr><th>attribute</th><th>meaning</th></tr></thead>
<tbody>
${rows([
  ['article', 'required: the id of the thread to show'],
  ['theme', 'light or dark; without it the widget follows the reader\u2019s system setting'],
  ['order', 'newest (default), oldest or top (most liked): the order threads are listed in first'],
  ['server', 'the comment server, when widget.js is not loaded from it'],
  [
    'sso-token',
    'the reader\u2019s member token from your site (also the ssoToken property): they comment as themselves, signed in and out live',
  ],
])}
</tbody>
</table>
<h2>Readers signed in to your site</h2>
<p>Your backend signs a short-lived token (a JWT, HS256, with the secret in <code>SSO_SECRETS</code>) and the page hands it to the widget; set <code>refreshSsoToken</code> to an async function that returns a fresh one, and listen for <code>live-comments:login-required</code> when the server requires sign-in (details in docs/sign-in.md).</p>
<pre><code>${escapeHtml(ssoSnippet(articleId))}</code></pre>
<h2>Theming</h2>
<p>Set these CSS custom properties on the element (for example <code>live-comments { --lc-accent: #8a2be2; }</code>); they override both the light and the dark colours.</p>
<table>
<tbody>
${rows([
  ['--lc-font', 'font family'],
  ['--lc-font-size', 'base font size (default 16px)'],
  ['--lc-bg, --lc-fg', 'background and text colour'],
  ['--lc-muted, --lc-border, --lc-surface', 'secondary text, rules, button background'],
  ['--lc-accent, --lc-accent-fg', 'links, primary button and its text'],
  ['--lc-danger, --lc-focus', 'error text, focus ring'],
  ['--lc-radius', 'corner radius'],
])}
</tbody>
</table>
<p>Parts can be styled too, e.g. <code>live-comments::part(comment)</code>, <code>::part(author)</code>, <code>::part(body)</code>, <code>::part(form)</code>, <code>::part(button)</code>.</p>
<h2>Live comment counts on list pages</h2>
<p>Mark each place a count should appear with <code>data-live-comments-count="slug"</code> and load <code>count.js</code> once per page: it fills them and keeps them live (under 2 KB gzipped), also in elements the page adds later. Without <code>data-live-comments-template</code> the element gets the bare number.</p>
<pre><code>${escapeHtml(countSnippet(countUrl, articleId, `/posts/${articleId}#comments`))}</code></pre>
<p>See it on <a href="/articles">the article list</a>.</p>`,
  );
}
