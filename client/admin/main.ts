/**
 * admin.js: the script of the /admin page (served by the comment server, same origin). Not part of
 * widget.js: readers never download it.
 */
import * as z from 'zod/mini';
import { languageOf } from '../../shared/i18n.ts';
import { h } from '../view/dom.ts';
import css from './admin.css';
import { AdminPage } from './admin-page.ts';
import {
  adminLanguage,
  chosenLanguage,
  languageNames,
  loadAdminStrings,
  rememberLanguage,
  type AdminStrings,
} from './admin-strings.ts';

// The page's CSP forbids eval: zod must not try to compile parsers.
z.config({ jitless: true });

const sheet = new CSSStyleSheet();
sheet.replaceSync(css);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const root = document.getElementById('admin');
const script = document.currentScript;
const base = new URL('.', script instanceof HTMLScriptElement && script.src ? script.src : location.href);
if (root) void start(root);

/**
 * The language menu above the page, and the page in the chosen language. Choosing another language
 * builds the page again in it: the session token is still in the tab, so it signs in again by itself
 * and reads the queue, the feed and the rest anew (what only the old page held, such as unsaved
 * rules or an article opened by id, is not carried over).
 */
async function start(root: HTMLElement): Promise<void> {
  const label = h('label', { attrs: { for: 'admin-lang' } });
  const menu = h('select', { attrs: { id: 'admin-lang', 'data-action': 'language' } });
  const auto = h('option', { attrs: { value: '' } });
  menu.append(
    auto,
    ...languageNames().map(({ lang, name }) => h('option', { text: name, attrs: { value: lang, lang } })),
  );
  const pageRoot = h('div');
  root.replaceChildren(h('div', { class: 'language' }, [label, menu]), pageRoot);
  let page: AdminPage | null = null;
  let shown = 0;

  const show = async () => {
    const attempt = ++shown;
    const { lang, locale } = adminLanguage();
    const strings = await loadAdminStrings(base, lang, locale);
    if (attempt !== shown) return;
    translateShell(strings);
    label.textContent = strings.text('admin.language');
    auto.textContent = strings.text('admin.languageAuto');
    menu.value = chosenLanguage() ?? '';
    page?.dispose();
    page = new AdminPage(pageRoot, base, strings);
  };
  menu.addEventListener('change', () => {
    rememberLanguage(languageOf(menu.value));
    void show();
  });
  await show();
}

/** The page around admin.js (server/http/demo-pages.ts renders it in English): its language, direction and words. */
function translateShell(strings: AdminStrings): void {
  document.documentElement.lang = strings.locale;
  document.documentElement.dir = strings.dir;
  const heading = document.querySelector('main > h1');
  if (heading) heading.textContent = strings.text('admin.heading');
  const header = document.querySelector('header.site');
  const [site, demo, articles] = header ? [...header.children] : [];
  if (site) site.textContent = strings.text('admin.site');
  if (demo) demo.textContent = strings.text('admin.demoArticle');
  if (articles) articles.textContent = strings.text('admin.articles');
}
