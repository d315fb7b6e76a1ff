import dark from './dark.css';
import css from './widget.css';

let shared: CSSStyleSheet | null = null;
let sharedDark: CSSStyleSheet | null = null;

const sheet = (text: string) => {
  const made = new CSSStyleSheet();
  made.replaceSync(text);
  return made;
};

/** The one stylesheet object every widget on the page adopts (see widget.css). */
export function widgetStyleSheet(): CSSStyleSheet {
  return (shared ??= sheet(css));
}

/** The dark colours, adopted after the main sheet while a widget's theme is dark (see dark.css). */
export function darkStyleSheet(): CSSStyleSheet {
  return (sharedDark ??= sheet(dark));
}
