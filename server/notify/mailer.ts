import nodemailer from 'nodemailer';
import * as z from 'zod/mini';
import type { DeliveryOutcome } from './webhook-delivery.ts';

/** A mail as the outbox keeps it (its payload): plain text only. */
export const MailPayloadSchema = z.object({
  to: z.array(z.string()),
  subject: z.string(),
  text: z.string(),
  /** Extra headers (reply e-mails: List-Unsubscribe and List-Unsubscribe-Post, RFC 8058). */
  headers: z.optional(z.record(z.string(), z.string())),
});
export type MailPayload = z.infer<typeof MailPayloadSchema>;

/** Longest a mail waits for the SMTP server, in all. */
const MAIL_TIMEOUT_MS = 30_000;

/** Sends the outbox's mails through SMTP_URL (nodemailer). */
export class Mailer {
  readonly #transport: nodemailer.Transporter;
  readonly #from: string;

  constructor(smtpUrl: string, from: string) {
    // The URL's settings, with bounded waits (nodemailer merges the options over the parsed URL).
    this.#transport = nodemailer.createTransport({
      url: smtpUrl,
      connectionTimeout: MAIL_TIMEOUT_MS,
      greetingTimeout: MAIL_TIMEOUT_MS,
      socketTimeout: MAIL_TIMEOUT_MS,
    });
    this.#from = from;
  }

  /** Sends one mail; never rejects (a failure is retried by the outbox like a webhook's). */
  async send(payload: string): Promise<DeliveryOutcome> {
    const parsed = MailPayloadSchema.safeParse(JSON.parse(payload));
    if (!parsed.success) return { ok: false, status: null, error: 'not a mail payload' };
    return this.sendMail(parsed.data);
  }

  /** Sends one mail made at delivery time (reply e-mails); never rejects. */
  async sendMail(mail: MailPayload): Promise<DeliveryOutcome> {
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.headers === undefined ? {} : { headers: mail.headers }),
      });
      return { ok: true, status: null };
    } catch (error) {
      const err = error as { responseCode?: number; code?: string; message?: string };
      return {
        ok: false,
        status: typeof err.responseCode === 'number' ? err.responseCode : null,
        error: `${err.code ? `${err.code}: ` : ''}${err.message ?? String(error)}`,
      };
    }
  }

  close(): void {
    this.#transport.close();
  }
}
