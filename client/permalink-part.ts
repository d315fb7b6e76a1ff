/**
 * widget-permalink.js: permalinks (client/permalink/), loaded when a reader presses Link or the page
 * is opened at (or moves to) a `#comment-<id>` address (client/parts.ts).
 */
import { registerPart } from './part-registry.ts';
import { copyLink, reveal } from './permalink/permalink.ts';

registerPart('permalink', { copyLink, reveal });
