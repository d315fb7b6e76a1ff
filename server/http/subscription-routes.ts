import { Router, type Response } from 'express';
import type { ReplyLinks } from '../notify/reply-links.ts';
import type { CommentStore } from '../storage/port.ts';
import type { Logger } from '../logger.ts';

export interface SubscriptionRouteDeps {
  store: CommentStore;
  links: ReplyLinks;
  logger: Logger;
  now?: () => Date;
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained page (no script: the CSP allows none, and none is needed). */
function page(res: Response, status: number, title: string, lines: string[], button?: string): void {
  res
    .status(status)
    .type('html')
    .setHeader('Cache-Control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<meta name="robots" content="noindex"><title>${escape(title)}</title></head>` +
        `<body style="font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">` +
        `<h1 style="font-size:1.4rem">${escape(title)}</h1>${lines.map((l) => `<p>${escape(l)}</p>`).join('')}` +
        // No action: the form posts to this same URL, token included.
        (button === undefined ? '' : `<form method="post"><button type="submit">${escape(button)}</button></form>`) +
        `</body></html>`,
    );
}

const tokenOf = (query: unknown): string =>
  typeof query === 'object' && query !== null && typeof (query as { token?: unknown }).token === 'string'
    ? (query as { token: string }).token
    : '';

/**
 * The pages reply e-mails link to (docs/notifications.md "Reply e-mails"). A GET only shows a button
 * and changes nothing, so a link preview or a mail scanner that fetches the link neither confirms nor
 * unsubscribes; the POST does. `POST /notify/unsubscribe?token=…` is also the RFC 8058 one-click
 * unsubscribe a mail client sends (body `List-Unsubscribe=One-Click`, ignored): no further step.
 */
export function createSubscriptionRoutes(deps: SubscriptionRouteDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());

  router.get('/notify/confirm', (req, res) => {
    if (deps.links.confirmed(tokenOf(req.query), now()) === null) return expired(res);
    page(
      res,
      200,
      'Confirm reply e-mails',
      ['Press the button to get an e-mail when someone replies to your comment.'],
      'Confirm',
    );
  });

  router.post('/notify/confirm', async (req, res) => {
    const id = deps.links.confirmed(tokenOf(req.query), now());
    if (id === null) return expired(res);
    const confirmed = await deps.store.confirmSubscription(id, now().toISOString());
    if (confirmed === null) return expired(res);
    page(res, 200, 'Confirmed', [
      'You will get an e-mail when someone replies to your comment.',
      'Every e-mail has a link to stop them.',
    ]);
  });

  router.get('/notify/unsubscribe', (req, res) => {
    if (deps.links.unsubscribed(tokenOf(req.query)) === null) return badLink(res);
    page(
      res,
      200,
      'Stop reply e-mails',
      ['Press the button to stop e-mails about replies to this comment.'],
      'Unsubscribe',
    );
  });

  router.post('/notify/unsubscribe', async (req, res) => {
    const id = deps.links.unsubscribed(tokenOf(req.query));
    if (id === null) return badLink(res);
    const gone = await deps.store.unsubscribe(id);
    if (gone !== null) deps.logger.info({ subscriptionId: id }, 'reply e-mails unsubscribed');
    page(res, 200, 'Unsubscribed', [
      'You will get no more e-mails about replies to this comment.',
      'Your e-mail address has been erased.',
    ]);
  });

  return router;
}

function expired(res: Response): void {
  page(res, 400, 'This link has expired', [
    'The confirmation link is no longer valid (it works for 48 hours). Post again and ask for reply e-mails to get a new one.',
  ]);
}

function badLink(res: Response): void {
  page(res, 400, 'This link is not valid', ['Copy the whole link from the e-mail.']);
}
