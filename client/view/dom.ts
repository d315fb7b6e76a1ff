/**
 * The one way the widget makes elements. Text goes in with textContent and attributes with
 * setAttribute: there is no innerHTML (or any other HTML parsing) anywhere in the widget.
 */

export interface ElementProps {
  class?: string;
  part?: string;
  text?: string;
  attrs?: Readonly<Record<string, string>>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  children: ReadonlyArray<Node | string> = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.part) element.setAttribute('part', props.part);
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  if (props.text !== undefined) element.textContent = props.text;
  for (const child of children) element.append(child);
  return element;
}

/** `1 comment`, `2 comments`. */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
