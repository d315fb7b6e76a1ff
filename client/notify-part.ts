/**
 * widget-notify.js: "Email me when someone replies" in the comment forms, loaded only when the page
 * answer says the server sends reply e-mails (`replyEmails: true`, client/session/posting.ts).
 */
import { NotifyOptIn } from './notify/notify-opt-in.ts';
import { registerPart } from './part-registry.ts';

registerPart('notify', { NotifyOptIn });
