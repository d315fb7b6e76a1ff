import { registry, type Parts } from './part-registry.ts';
import { WidgetError } from './protocol.ts';

/**
 * Parts of the widget few readers need, kept out of widget.js to hold its budget: each is a small
 * script beside it on the server (`widget-<name>.js`, built by client/build.mjs), loaded once per page
 * on first use with a plain `<script src>` (so a host CSP that lets widget.js in lets it in too), and
 * registered under a symbol on `window` (no global name to collide with).
 */

const loading = new Map<string, Promise<unknown>>();

/** The part, loaded from the comment server at `base` the first time it is asked for. */
export function loadPart<K extends keyof Parts>(base: URL, name: K): Promise<Parts[K]> {
  const url = new URL(`widget-${name}.js`, base).href;
  let promise = loading.get(url);
  if (!promise) {
    promise = new Promise<Parts[K]>((resolve, reject) => {
      const known = registry()[name];
      if (known) return resolve(known);
      const script = document.createElement('script');
      script.src = url;
      script.async = true;
      script.onload = () => {
        const part = registry()[name];
        if (part) resolve(part);
        else script.onerror?.(new Event('error'));
      };
      script.onerror = () => {
        // A later use tries again (the network may be back).
        loading.delete(url);
        script.remove();
        reject(new WidgetError('network', 'Part of the widget could not be loaded.'));
      };
      (document.head ?? document.documentElement).append(script);
    });
    loading.set(url, promise);
  }
  return promise as Promise<Parts[K]>;
}
