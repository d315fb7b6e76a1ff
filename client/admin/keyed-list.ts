import { h } from '../view/dom.ts';

/**
 * A list that live updates must not disturb: each item keeps its `<li>` while its key stays the same,
 * elements move only where the order changed, and when an item's content is rebuilt the control that
 * had the focus (matched by its `data-action`) gets it back. Moderators work the feed with the
 * keyboard while new comments keep arriving.
 */
export class KeyedList<T> {
  readonly element: HTMLUListElement;
  readonly #rows = new Map<string, { li: HTMLLIElement; version: string }>();
  readonly #id: (item: T) => string;
  readonly #version: (item: T) => string;
  readonly #render: (item: T) => Array<Node | string>;

  constructor(options: {
    label: string;
    id: (item: T) => string;
    version: (item: T) => string;
    render: (item: T) => Array<Node | string>;
  }) {
    this.element = h('ul', { class: 'items', attrs: { 'aria-label': options.label } });
    this.#id = options.id;
    this.#version = options.version;
    this.#render = options.render;
  }

  update(items: readonly T[]): void {
    const wanted = new Set(items.map(this.#id));
    for (const [id, row] of this.#rows) {
      if (!wanted.has(id)) {
        row.li.remove();
        this.#rows.delete(id);
      }
    }
    let cursor = this.element.firstElementChild;
    for (const item of items) {
      const id = this.#id(item);
      const version = this.#version(item);
      let row = this.#rows.get(id);
      if (!row) this.#rows.set(id, (row = { li: h('li', { class: 'item', attrs: { 'data-id': id } }), version: '' }));
      if (row.version !== version) {
        const focused = row.li.contains(document.activeElement)
          ? document.activeElement?.getAttribute('data-action')
          : null;
        row.li.replaceChildren(...this.#render(item));
        row.version = version;
        if (focused) row.li.querySelector<HTMLElement>(`[data-action="${focused}"]`)?.focus();
      }
      if (row.li === cursor) cursor = cursor.nextElementSibling;
      else this.element.insertBefore(row.li, cursor);
    }
  }

  /** The element of an item, for focus after an action. */
  row(id: string): HTMLLIElement | undefined {
    return this.#rows.get(id)?.li;
  }
}
