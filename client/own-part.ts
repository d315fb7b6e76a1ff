/** widget-own.js: editing and deleting the reader's own comments, loaded on first use (client/parts.ts). */
import { registerPart } from './part-registry.ts';
import { OwnEditor } from './view/own-editor.ts';

registerPart('own', { OwnEditor });
