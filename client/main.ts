/**
 * widget.js: defines `<live-comments>`. Loaded by the two-line embed:
 *
 *   <script src="https://comments.example.com/widget.js" async></script>
 *   <live-comments article="my-article-slug"></live-comments>
 *
 * The server is the origin (and folder) this script came from, so the host page configures nothing else.
 */
import * as z from 'zod/mini';
import { LiveCommentsElement, serverBaseFromScript } from './element.ts';

// zod compiles fast parsers with `new Function` when it may; a strict host CSP forbids eval, so never try.
z.config({ jitless: true });

const script = document.currentScript;
const fromScript = serverBaseFromScript(script instanceof HTMLScriptElement ? script.src : null);

if (!customElements.get('live-comments')) {
  LiveCommentsElement.defaultBase = fromScript;
  customElements.define('live-comments', LiveCommentsElement);
}
