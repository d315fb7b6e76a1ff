/** Where the lazily loaded parts of the widget register (client/parts.ts loads them). */

import type { OwnEditor } from './view/own-editor.ts';

/** The part that edits and deletes the reader's own comments (client/view/own-editor.ts). */
export interface OwnPart {
  OwnEditor: typeof OwnEditor;
}

export interface Parts {
  own: OwnPart;
}

const REGISTRY = Symbol.for('live-comments.parts');
type Registry = Partial<Parts>;
export const registry = (): Registry => ((window as unknown as Record<symbol, Registry>)[REGISTRY] ??= {});

/** Called by a part's script when it runs. */
export function registerPart<K extends keyof Parts>(name: K, part: Parts[K]): void {
  registry()[name] = part;
}
