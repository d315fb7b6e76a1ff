/**
 * count.js: live comment counts for article lists. One line on a list page:
 *
 *   <script src="https://comments.example.com/count.js" async></script>
 *
 * fills every element carrying `data-live-comments-count="slug"` with the number of visible comments
 * of that article (textContent only), and keeps it live. Optional `data-live-comments-template="{n}
 * comments"` (and `data-live-comments-template-one="{n} comment"`) words it.
 *
 * It stays tiny by speaking the wire protocol itself instead of bundling socket.io-client: one raw
 * WebSocket to the server's Socket.IO endpoint (Engine.IO v4 frames: `0` open, `2` ping answered by
 * `3`, `4` + a Socket.IO packet: `40` connect, `42[…]` event, `42N[…]` event with an ack id, `43N[…]`
 * its ack). It sends `counts:subscribe { articleIds }` (at most 100 per event) and applies
 * `count:changed { articleId, count }`. Lost connections come back with jittered exponential backoff
 * and subscribe again; while there is no connection (WebSocket blocked or failing) the counts are
 * read from `GET /api/counts` every 30 s instead. The server is where this script came from.
 */
(() => {
  const ATTRIBUTE = 'data-live-comments-count';
  const TEMPLATE = 'data-live-comments-template';
  const ARTICLE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
  const PER_REQUEST = 100;
  const POLL_MS = 30_000;
  const MAX_BACKOFF_MS = 60_000;

  const script = document.currentScript as HTMLScriptElement | null;
  const base = new URL('.', script?.src || location.href);
  /** Elements by article id. */
  const targets = new Map<string, HTMLElement[]>();
  const chunks: string[][] = [];
  let socket: WebSocket | null = null;
  let everConnected = false;
  let failures = 0;
  let nextAck = 0;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let silence = 0;

  const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

  /** Shows one article's count in each of its elements; anything that is not a known id and a count is ignored. */
  function show(articleId: unknown, count: unknown): void {
    if (typeof articleId !== 'string' || !isCount(count)) return;
    for (const element of targets.get(articleId) ?? []) {
      const template = (count === 1 && element.getAttribute(`${TEMPLATE}-one`)) || element.getAttribute(TEMPLATE);
      element.textContent = template ? template.replace('{n}', String(count)) : String(count);
    }
  }

  function showAll(counts: unknown): void {
    if (counts && typeof counts === 'object') for (const [articleId, count] of Object.entries(counts)) show(articleId, count);
  }

  /** The fallback: every known count over REST, now and every 30 s, while the socket is down. */
  function poll(): void {
    for (const ids of chunks) {
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

  function stopPolling(): void {
    clearInterval(pollTimer);
    pollTimer = undefined;
  }

  /** Closes the socket when the server has been silent past its promised ping interval + timeout. */
  function watchdog(current: WebSocket): void {
    clearTimeout(deadline);
    deadline = setTimeout(() => current.close(), silence);
  }

  /** One Socket.IO packet (the Engine.IO message without its leading `4`). */
  function onPacket(current: WebSocket, packet: string): void {
    const type = packet[0];
    if (type === '0') {
      // Connected to the namespace: (re)subscribe to every article on the page.
      everConnected = true;
      failures = 0;
      stopPolling();
      for (const articleIds of chunks) current.send(`42${nextAck++}${JSON.stringify(['counts:subscribe', { articleIds }])}`);
    } else if (type === '2') {
      const [event, change] = JSON.parse(packet.slice(1)) as [unknown, { articleId?: unknown; count?: unknown } | null];
      if (event === 'count:changed' && change) show(change.articleId, change.count);
    } else if (type === '3') {
      const [answer] = JSON.parse(packet.replace(/^3\d+/, '')) as [{ ok?: unknown; counts?: unknown } | null];
      if (answer?.ok === true) showAll(answer.counts);
    } else {
      // Refused (4) or disconnected by the server (1): start over.
      current.close();
    }
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
    current.onmessage = ({ data }: MessageEvent) => {
      if (typeof data !== 'string') return;
      try {
        if (data[0] === '0') {
          const { pingInterval, pingTimeout } = JSON.parse(data.slice(1)) as { pingInterval: number; pingTimeout: number };
          silence = pingInterval + pingTimeout;
          watchdog(current);
          current.send('40');
        } else if (data === '2') {
          watchdog(current);
          current.send('3');
        } else if (data[0] === '4') onPacket(current, data.slice(1));
        else if (data[0] === '1') current.close();
      } catch {
        current.close();
      }
    };
    current.onclose = () => {
      if (socket !== current) return;
      socket = null;
      clearTimeout(deadline);
      retry();
    };
  }

  function retry(): void {
    startPolling(!everConnected);
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures++) * (0.5 + Math.random());
    setTimeout(connect, delay);
  }

  function start(): void {
    for (const element of document.querySelectorAll<HTMLElement>(`[${ATTRIBUTE}]`)) {
      const articleId = element.getAttribute(ATTRIBUTE) ?? '';
      if (!ARTICLE_ID.test(articleId)) continue;
      const list = targets.get(articleId);
      if (list) list.push(element);
      else targets.set(articleId, [element]);
    }
    const ids = [...targets.keys()];
    for (let i = 0; i < ids.length; i += PER_REQUEST) chunks.push(ids.slice(i, i + PER_REQUEST));
    if (chunks.length === 0) return;
    if (typeof WebSocket === 'function') connect();
    else startPolling(true);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
