/** Where the lazily loaded parts of the widget register (client/parts.ts loads them). */

import type * as OwnPanels from './view/own-panels.ts';

/** The part with the forms that edit and delete the reader's own comments (client/view/own-panels.ts). */
export type OwnPanelsPart = typeof OwnPanels;

export interface Parts {
  own: OwnPanelsPart;
}

const REGISTRY = Symbol.for('live-comments.parts');
type Registry = Partial<Parts>;
export const registry = (): Registry => ((window as unknown as Record<symbol, Registry>)[REGISTRY] ??= {});

/** Called by a part's script when it runs. */
export function registerPart<K extends keyof Parts>(name: K, part: Parts[K]): void {
  registry()[name] = part;
}
