import { formatAbsolute, formatRelative } from '../time-format.ts';
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

export function time(iso: string): HTMLTimeElement {
  return h('time', { text: formatRelative(iso, Date.now()), attrs: { datetime: iso, title: formatAbsolute(iso) } });
}

export function articleLink(articleId: string): HTMLAnchorElement {
  return h('a', {
    class: 'article',
    text: articleId,
    attrs: { href: `articles/${encodeURIComponent(articleId)}`, target: '_blank', rel: 'noopener' },
  });
}
