/**
 * count.js: live comment counts for article lists. One line on a list page:
 *
 *   <script src="https://comments.example.com/count.js" async></script>
 *
 * fills every element carrying `data-live-comments-count="slug"` with the number of visible comments
 * of that article (textContent only), and keeps it live. Optional `data-live-comments-template="{n}
 * comments"` (and `data-live-comments-template-one="{n} comment"`) words it; or
 * `data-live-comments-words` gives the widget's words in the element's language (client/count/words.ts).
 *
 * It stays tiny by speaking the wire protocol itself (client/count/wire.ts) instead of bundling
 * socket.io-client: one raw WebSocket to the server's Socket.IO endpoint, `counts:subscribe
 * { articleIds }` (at most 100 per event), then `count:changed { articleId, count }`. A lost
 * connection comes back with jittered exponential backoff and subscribes again; while there is none
 * (WebSocket blocked or failing) the counts are read from `GET /api/counts` every 30 s instead. The
 * server is where this script came from. Elements are collected when the page has loaded, and again
 * whenever the page adds some (a MutationObserver: infinite scroll, single-page sites): a known
 * article's element shows its count at once, a new article is subscribed to (or polled) as it comes.
 */
import { countText, isCount, readFrame, subscribeFrame } from './wire.ts';
import { countLanguage, countWords, ENGLISH_COUNT, readCountForms, type CountForms } from './words.ts';

(() => {
  const ATTRIBUTE = 'data-live-comments-count';
  const TEMPLATE = 'data-live-comments-template';
  const WORDS = 'data-live-comments-words';
  const ARTICLE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
  const PER_REQUEST = 100;
  const POLL_MS = 30_000;
  const MAX_BACKOFF_MS = 60_000;

  const script = document.currentScript as HTMLScriptElement | null;
  const base = new URL('.', script?.src || location.href);
  /** Elements by article id (those a page removed are dropped when the next count comes). */
  const targets = new Map<string, HTMLElement[]>();
  /** The last count heard for each article, shown at once in an element added later. */
  const known = new Map<string, number>();
  const chunks: string[][] = [];
  let socket: WebSocket | null = null;
  /** The socket once the server accepted it (subscriptions can be sent on it). */
  let live: WebSocket | null = null;
  let started = false;
  let everConnected = false;
  let failures = 0;
  let nextAck = 0;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  /** Each language's count words, fetched once (English is here; a failed fetch gives English). */
  const languages = new Map<string, Promise<CountForms>>([['en', Promise.resolve(ENGLISH_COUNT)]]);
  /** The count each element should show: words that arrive after a newer count are not used. */
  const latest = new WeakMap<HTMLElement, number>();

  /** Shows one article's count in each of its elements; anything that is not a known id and a count is ignored. */
  function show(articleId: unknown, count: unknown): void {
    if (typeof articleId !== 'string' || !isCount(count)) return;
    const elements = targets.get(articleId)?.filter((element) => element.isConnected);
    if (!elements) return;
    targets.set(articleId, elements);
    known.set(articleId, count);
    for (const element of elements) fill(element, count);
  }

  function fill(element: HTMLElement, count: number): void {
    const template = element.getAttribute(TEMPLATE);
    if (template || !element.hasAttribute(WORDS)) {
      element.textContent = countText(count, template, element.getAttribute(`${TEMPLATE}-one`));
      return;
    }
    latest.set(element, count);
    const { lang, locale } = countLanguage([element.closest('[lang]')?.getAttribute('lang'), ...navigator.languages]);
    let forms = languages.get(lang);
    if (!forms) {
      forms = fetch(new URL(`i18n/${lang}.json`, base), { credentials: 'omit' })
        .then((response) => (response.ok ? response.json() : null))
        .then((table: unknown) => readCountForms(table) ?? ENGLISH_COUNT)
        .catch(() => ENGLISH_COUNT);
      languages.set(lang, forms);
    }
    void forms.then((words) => {
      if (latest.get(element) === count)
        element.textContent = countWords(count, words === ENGLISH_COUNT ? 'en' : locale, words);
    });
  }

  function showAll(counts: unknown): void {
    if (counts && typeof counts === 'object')
      for (const [articleId, count] of Object.entries(counts)) show(articleId, count);
  }

  /** The fallback: every known count over REST (or only those of `some` chunks). */
  function poll(some = chunks): void {
    for (const ids of some) {
      const url = new URL('api/counts', base);
      url.searchParams.set('articles', ids.join(','));
      fetch(url, { credentials: 'omit', cache: 'no-store' })
        .then((response) => (response.ok ? response.json() : null))
        .then((body: { counts?: unknown } | null) => showAll(body?.counts))
        .catch(() => undefined);
    }
  }

  /** `now`: read at once too (nothing was shown yet); after a live connection dropped, the next tick is soon enough. */
  function startPolling(now: boolean): void {
    if (pollTimer !== undefined) return;
    if (now) poll();
    pollTimer = setInterval(poll, POLL_MS);
  }

  /** Ends an attempt (closed, refused, failed or silent) and schedules the next one; once per socket. */
  function end(current: WebSocket): void {
    if (socket !== current) return;
    socket = live = null;
    clearTimeout(deadline);
    current.close();
    retry();
  }

  function connect(): void {
    const url = new URL('socket.io/?EIO=4&transport=websocket', base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let current: WebSocket;
    try {
      current = socket = new WebSocket(url);
    } catch {
      return retry();
    }
    let silence = 0;
    current.onmessage = ({ data }: MessageEvent) => {
      const frame = readFrame(data);
      if (frame === null || frame.kind === 'end') return end(current);
      if (frame.kind === 'open') {
        silence = frame.silence;
        current.send('40');
      } else if (frame.kind === 'ping') {
        current.send('3');
      } else if (frame.kind === 'connected') {
        everConnected = true;
        live = current;
        failures = 0;
        clearInterval(pollTimer);
        pollTimer = undefined;
        for (const articleIds of chunks) current.send(subscribeFrame(nextAck++, articleIds));
      } else if (frame.kind === 'event') {
        const change = frame.payload as { articleId?: unknown; count?: unknown } | null;
        if (frame.name === 'count:changed' && change) show(change.articleId, change.count);
      } else {
        const answer = frame.payload as { ok?: unknown; counts?: unknown } | null;
        if (answer?.ok === true) showAll(answer.counts);
      }
      if (frame.kind === 'open' || frame.kind === 'ping') {
        // A server silent past its promised ping interval + timeout is gone (a dead link closes no socket).
        clearTimeout(deadline);
        deadline = setTimeout(() => end(current), silence);
      }
    };
    // A connection the page's CSP refuses fires only `error` (no `close`) in Chromium: either one ends this attempt.
    current.onclose = current.onerror = () => end(current);
  }

  function retry(): void {
    startPolling(!everConnected);
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures++) * (0.5 + Math.random());
    setTimeout(connect, delay);
  }

  /** Takes in the count elements in or under `root` that are not known yet, and subscribes to their new articles. */
  function collect(root: Element | Document): void {
    const found = [...root.querySelectorAll<HTMLElement>(`[${ATTRIBUTE}]`)];
    if (root instanceof HTMLElement && root.hasAttribute(ATTRIBUTE)) found.push(root);
    const fresh: string[] = [];
    for (const element of found) {
      const articleId = element.getAttribute(ATTRIBUTE) ?? '';
      if (!ARTICLE_ID.test(articleId)) continue;
      const list = targets.get(articleId);
      if (list) {
        if (list.includes(element)) continue;
        list.push(element);
        const count = known.get(articleId);
        if (count !== undefined) fill(element, count);
      } else {
        targets.set(articleId, [element]);
        fresh.push(articleId);
      }
    }
    const added: string[][] = [];
    for (let i = 0; i < fresh.length; i += PER_REQUEST) added.push(fresh.slice(i, i + PER_REQUEST));
    if (added.length === 0) return;
    chunks.push(...added);
    if (!started) {
      started = true;
      if (typeof WebSocket === 'function') connect();
      else startPolling(true);
    } else if (live) {
      for (const articleIds of added) live.send(subscribeFrame(nextAck++, articleIds));
    } else if (pollTimer !== undefined) {
      poll(added);
    }
    // Otherwise a connection is on its way: it subscribes to every chunk once the server accepts it.
  }

  function start(): void {
    collect(document);
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) if (node instanceof Element) collect(node);
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
