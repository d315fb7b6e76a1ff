/** Constructed sheets of the parts, one per text, shared by every widget on the page. */
const sheets = new Map<string, CSSStyleSheet>();

/**
 * Adds a part's few style rules to the shadow root `node` is in, once, after the widget's own sheets:
 * a constructed sheet, as widget.js uses, so a strict style-src CSP allows it; a theme change keeps it
 * (client/element.ts swaps only the theme's sheets).
 */
export function adoptPartSheet(node: Node, css: string): void {
  const root = node.getRootNode();
  if (!(root instanceof ShadowRoot)) return;
  let sheet = sheets.get(css);
  if (!sheet) {
    sheets.set(css, (sheet = new CSSStyleSheet()));
    sheet.replaceSync(css);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
}
