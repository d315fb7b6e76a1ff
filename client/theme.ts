/**
 * Light or dark, for one widget. `theme="auto"` (the default) matches the host page: the colour of the
 * first painted background behind the element (its ancestors', across shadow roots, then the page
 * canvas), re-read when the reader's colour scheme changes or when the page's <html> or <body>
 * attributes change (a site's own dark-mode toggle sets a class or data attribute there).
 * `theme="system"` follows the reader's `prefers-color-scheme`; `light` and `dark` are fixed.
 */

export type ThemeChoice = 'auto' | 'system' | 'light' | 'dark';

export function readThemeChoice(value: string | null): ThemeChoice {
  return value === 'system' || value === 'light' || value === 'dark' ? value : 'auto';
}

/**
 * Whether a computed background colour is painted (alpha at least 0.5) and dark (perceived brightness
 * below about 45 %); null when it is transparent or not an `rgb()`/`rgba()` value (browsers give
 * hex, named and hsl colours as rgb; the rarer lab-like spaces are passed over).
 */
export function isDarkColor(value: string): boolean | null {
  const [r, g, b, alpha = 1] = (/^rgba?\((.*)\)$/.exec(value)?.[1]?.match(/[\d.]+/g) ?? []).map(Number);
  if (b === undefined || alpha < 0.5) return null;
  return 0.299 * r! + 0.587 * g! + 0.114 * b < 115;
}

/** Whether the page behind `host` is dark: the first background with some opacity, else the canvas. */
export function pageIsDark(host: Element): boolean {
  let node: Node | null = host.parentNode;
  while (node) {
    if (node instanceof ShadowRoot) node = node.host;
    if (!(node instanceof Element)) break;
    const dark = isDarkColor(getComputedStyle(node).backgroundColor);
    if (dark !== null) return dark;
    node = node.parentNode;
  }
  // Nothing painted: the canvas, dark only when the page opts into a dark colour scheme.
  const scheme = getComputedStyle(document.documentElement).colorScheme;
  return /dark/.test(scheme) && (!/light/.test(scheme) || matchMedia('(prefers-color-scheme: dark)').matches);
}

/** Decides and follows one widget's theme, calling `apply(dark)` whenever it changes. */
export class ThemeWatcher {
  readonly #host: HTMLElement;
  readonly #apply: (dark: boolean) => void;
  readonly #media = matchMedia('(prefers-color-scheme: dark)');
  readonly #observer = new MutationObserver(() => this.update());
  readonly #onMedia = () => this.update();
  #choice: ThemeChoice = 'auto';
  #dark: boolean | null = null;

  constructor(host: HTMLElement, apply: (dark: boolean) => void) {
    this.#host = host;
    this.#apply = apply;
  }

  start(choice: ThemeChoice): void {
    this.stop();
    this.#choice = choice;
    if (choice === 'auto' || choice === 'system') this.#media.addEventListener('change', this.#onMedia);
    if (choice === 'auto') {
      for (const element of [document.documentElement, document.body])
        if (element) this.#observer.observe(element, { attributes: true });
      // The page's own stylesheets may still be loading: look again once they are.
      if (document.readyState !== 'complete') addEventListener('load', this.#onMedia, { once: true });
    }
    this.update();
  }

  update(): void {
    const choice = this.#choice;
    const dark =
      choice === 'dark' ||
      (choice === 'system' && this.#media.matches) ||
      (choice === 'auto' && pageIsDark(this.#host));
    if (dark === this.#dark) return;
    this.#dark = dark;
    this.#apply(dark);
  }

  stop(): void {
    this.#media.removeEventListener('change', this.#onMedia);
    removeEventListener('load', this.#onMedia);
    this.#observer.disconnect();
    this.#dark = null;
  }
}
