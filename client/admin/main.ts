/**
 * admin.js: the script of the /admin page (served by the comment server, same origin). Not part of
 * widget.js: readers never download it.
 */
import * as z from 'zod/mini';
import css from './admin.css';
import { AdminPage } from './admin-page.ts';

// The page's CSP forbids eval: zod must not try to compile parsers.
z.config({ jitless: true });

const sheet = new CSSStyleSheet();
sheet.replaceSync(css);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const root = document.getElementById('admin');
const script = document.currentScript;
if (root)
  new AdminPage(root, new URL('.', script instanceof HTMLScriptElement && script.src ? script.src : location.href));
