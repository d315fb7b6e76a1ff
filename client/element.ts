import type { StringTable } from '../shared/i18n.ts';
import { ArticleIdSchema, SortOrderSchema } from '../shared/schemas.ts';
import { chooseLanguage, loadTable, readOverrides, Strings } from './i18n/strings.ts';
import { h } from './view/dom.ts';
import { darkStyleSheet, widgetStyleSheet } from './view/styles.ts';
import { Session } from './session/session.ts';
import { readThemeChoice, ThemeWatcher } from './theme.ts';

/** The server root a script URL implies: the folder widget.js was loaded from (`https://c.example.com/`). */
export function serverBaseFromScript(src: string | null | undefined): URL | null {
  if (!src) return null;
  try {
    const url = new URL('.', src);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** An explicit `server` attribute, as a root URL ending in `/`. */
function serverBaseFromAttribute(value: string | null): URL | null {
  if (!value) return null;
  try {
    const url = new URL(value, document.baseURI);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    url.search = '';
    url.hash = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url;
  } catch {
    return null;
  }
}

/**
 * `<live-comments article="slug">`: the thread of one article, live. Attributes: `article` (required),
 * `theme` (`auto`, the default: light or dark as the page behind it; `system`: the reader's colour
 * scheme; `light` | `dark`), `order` (`newest` | `oldest` | `top`),
 * `server` (the comment server; default: where widget.js came from), `sso-token` (the reader's
 * member token from the host site, also the `ssoToken` property; see docs/sign-in.md), `lang` (the
 * language; default: the page's, else the reader's) and `strings` (the site's words, also a property).
 * Changing `article`, `server`, `lang` or `strings` redraws the widget.
 *
 * The element can be removed and re-added at will: removal stops everything it started once the
 * current task ends (a move within the page keeps it running).
 */
export class LiveCommentsElement extends HTMLElement {
  static readonly observedAttributes = ['article', 'server', 'order', 'theme', 'sso-token', 'lang', 'strings'];
  /** Set by the entry script from its own `src`. */
  static defaultBase: URL | null = null;

  readonly #shadow: ShadowRoot;
  readonly #theme = new ThemeWatcher(this, (dark) => {
    // Sheets parts adopted (the Report form, the own panels) stay: only the theme's sheets change.
    const theme = [widgetStyleSheet(), darkStyleSheet()];
    const parts = this.#shadow.adoptedStyleSheets.filter((sheet) => !theme.includes(sheet));
    this.#shadow.adoptedStyleSheets = [...(dark ? theme : theme.slice(0, 1)), ...parts];
  });
  #session: Session | null = null;
  /** True from start to stop, also when the attributes are wrong and only an error is shown. */
  #active = false;
  #ssoToken: string | null = null;
  #strings: unknown = null;
  /** Counts starts: a language table that arrives after the widget restarted (or stopped) is not used. */
  #generation = 0;
  /**
   * Set by the page: called a minute before the member token expires and when the server refuses it
   * as expired, for a fresh token (null: the reader is signed out). Declared, not initialised, so a
   * value set before widget.js defined the element is kept.
   */
  declare refreshSsoToken: (() => Promise<string | null>) | null | undefined;

  constructor() {
    super();
    this.#shadow = this.attachShadow({ mode: 'open' });
    this.#shadow.adoptedStyleSheets = [widgetStyleSheet()];
    // widget.js loads async: a page may have set the property on the element before it was defined,
    // which made it a plain own property hiding the setter. Take it over.
    if (Object.hasOwn(this, 'strings')) {
      const strings = (this as { strings?: unknown }).strings;
      delete (this as { strings?: unknown }).strings;
      this.#strings = strings;
    }
    if (Object.hasOwn(this, 'ssoToken')) {
      const token = (this as { ssoToken?: unknown }).ssoToken;
      delete (this as { ssoToken?: unknown }).ssoToken;
      this.ssoToken = typeof token === 'string' ? token : null;
    }
  }

  /**
   * The reader's member token from the host site (a JWT; null or '' signs out). Setting it signs the
   * live widget in or out without a reload, and with it every widget of the page on the same server
   * (they share one connection). The `sso-token` attribute does the same.
   */
  get ssoToken(): string | null {
    return this.#ssoToken;
  }

  set ssoToken(token: string | null) {
    // Also when unchanged here: another widget of the server may have signed the reader in (or out) since.
    this.#ssoToken = token || null;
    this.#session?.setToken(this.#ssoToken);
  }

  /**
   * The site's own words for any of the widget's strings (`{ key: text }`, keys as in
   * client/i18n/en.ts), over the language's table; the `strings` attribute takes the same as JSON.
   * Setting it redraws the widget.
   */
  get strings(): unknown {
    return this.#strings;
  }

  set strings(strings: unknown) {
    this.#strings = strings;
    if (this.#active) {
      this.#stop();
      this.#start();
    }
  }

  connectedCallback(): void {
    if (!this.#active) this.#start();
  }

  disconnectedCallback(): void {
    // A move (remove then insert in the same task) must not drop and remake the connection.
    queueMicrotask(() => {
      if (!this.isConnected) this.#stop();
    });
  }

  attributeChangedCallback(name: string, previous: string | null, value: string | null): void {
    if (name === 'sso-token') return void (this.ssoToken = value);
    // Before the first start (parsing, upgrade) the attributes are simply read by #start.
    if (previous === value || !this.#active) return;
    if (name === 'theme') return this.#theme.start(readThemeChoice(value));
    if (name === 'order') {
      const order = SortOrderSchema.safeParse(value);
      if (order.success && this.#session) this.#session.setOrder(order.data);
      return;
    }
    this.#stop();
    this.#start();
  }

  #start(): void {
    this.#active = true;
    this.#theme.start(readThemeChoice(this.getAttribute('theme')));
    const article = ArticleIdSchema.safeParse(this.getAttribute('article') ?? '');
    const base = serverBaseFromAttribute(this.getAttribute('server')) ?? LiveCommentsElement.defaultBase;
    if (!article.success || base === null) {
      const problem = !article.success
        ? `the article attribute must be an article id (${article.error.issues[0]?.message ?? 'invalid'})`
        : 'the comment server is unknown: load widget.js from it, or set the server attribute';
      this.#shadow.replaceChildren(
        h('div', { class: 'root', part: 'root' }, [
          h('p', { class: 'error', attrs: { role: 'alert' }, text: `Comments cannot be shown: ${problem}.` }),
        ]),
      );
      return;
    }
    const { lang, locale } = chooseLanguage(this);
    const generation = ++this.#generation;
    const mount = (table: StringTable) => {
      if (generation !== this.#generation) return;
      const order = SortOrderSchema.safeParse(this.getAttribute('order'));
      const overrides = { ...readOverrides(this.getAttribute('strings')), ...readOverrides(this.#strings) };
      // A site's word of the wrong shape gives the language's, not English.
      this.#session = new Session(this.#shadow, {
        base,
        articleId: article.data,
        order: order.success ? order.data : 'newest',
        host: this,
        ssoToken: this.#ssoToken,
        strings: new Strings(lang, locale, overrides, table),
      });
    };
    // English is in widget.js; another language's table is fetched first (once per page), English if it cannot be.
    if (lang === 'en') mount({});
    else void loadTable(base, lang).then(mount);
  }

  #stop(): void {
    this.#active = false;
    this.#generation++;
    this.#theme.stop();
    this.#session?.stop();
    this.#session = null;
    this.#shadow.replaceChildren();
  }
}
