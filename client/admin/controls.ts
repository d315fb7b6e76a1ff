import type { Strings } from '../i18n/strings.ts';
import { h } from '../view/dom.ts';

/** Small controls every list of the admin page uses. */

export function button(
  label: string,
  action: string,
  onClick: () => void,
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const element = h('button', { text: label, attrs: { type: 'button', 'data-action': action, ...attrs } });
  element.addEventListener('click', onClick);
  return element;
}

/** "5 minutes ago" in the page's language, the exact time on hover. */
export function time(iso: string, strings: Strings): HTMLTimeElement {
  return h('time', { text: strings.ago(iso, Date.now()), attrs: { datetime: iso, title: strings.date(iso) } });
}

export function articleLink(articleId: string): HTMLAnchorElement {
  return h('a', {
    class: 'article',
    text: articleId,
    attrs: { href: `articles/${encodeURIComponent(articleId)}`, target: '_blank', rel: 'noopener' },
  });
}
