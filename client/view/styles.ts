import css from './widget.css';

let shared: CSSStyleSheet | null = null;

/** The one stylesheet object every widget on the page adopts (see widget.css). */
export function widgetStyleSheet(): CSSStyleSheet {
  if (shared === null) {
    shared = new CSSStyleSheet();
    shared.replaceSync(css);
  }
  return shared;
}
