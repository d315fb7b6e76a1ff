/**
 * widget-own.js: editing and deleting the reader's own comments, and "N new replies to you", loaded
 * the first time the reader has a comment of their own on the page (client/parts.ts).
 */
import { registerPart } from './part-registry.ts';
import { RepliesToYou } from './session/replies-to-you.ts';
import { OwnEditor } from './view/own-editor.ts';

registerPart('own', { OwnEditor, RepliesToYou });
