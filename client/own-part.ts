/** widget-own.js: the forms that edit and delete the reader's own comments, loaded on first use (client/parts.ts). */
import { registerPart } from './part-registry.ts';
import { ConfirmDelete, EditForm } from './view/own-panels.ts';

registerPart('own', { ConfirmDelete, EditForm });
