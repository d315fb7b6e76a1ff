import * as z from 'zod/mini';
import { maxItems, maxUnits, minUnits } from './lengths.ts';
import { ArticleIdSchema, AuthorNameInputSchema, CommentSchema, HeldCommentSchema } from './schemas.ts';

/**
 * Sign-in from the host site (README "Sign-in from your site"): the host's backend signs a JWT
 * (HS256) with a secret it shares with the comment server; these are the claims the server accepts.
 * Unknown claims are ignored. Lengths count UTF-16 units, like every limit of the protocol.
 */
export const SSO_LIMITS = {
  subMax: 128,
  badgesMax: 3,
  badgeMax: 20,
  jtiMax: 64,
  emailMax: 254,
  urlMax: 2000,
  issuerMax: 200,
  /** A token longer than this is not looked at (bounds the work done on hostile input). */
  tokenMax: 8192,
} as const;

/** An `https:` URL of at most `SSO_LIMITS.urlMax` units. */
export const HttpsUrlSchema = z.string().check(
  maxUnits(SSO_LIMITS.urlMax, `Must be at most ${SSO_LIMITS.urlMax} characters`),
  z.refine((s) => {
    if (s.length > SSO_LIMITS.urlMax) return true;
    try {
      return new URL(s).protocol === 'https:';
    } catch {
      return false;
    }
  }, 'Must be an https URL'),
);

/** A badge as shown beside a member's name ("staff", "subscriber"): 1–20 units, our name rules. */
export const BadgeSchema = z.string().check(
  maxUnits(SSO_LIMITS.badgeMax * 4, `A badge must be at most ${SSO_LIMITS.badgeMax} characters`),
  z.overwrite((s) => s.normalize('NFC').trim()),
  minUnits(1, 'A badge must not be empty'),
  maxUnits(SSO_LIMITS.badgeMax, `A badge must be at most ${SSO_LIMITS.badgeMax} characters`),
  z.refine((s) => !/[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/.test(s), {
    message: 'A badge must not contain control, bidirectional or invisible characters',
  }),
);

/** The host's stable user id: 1–128 units, no controls. */
export const MemberSubSchema = z.string().check(
  minUnits(1, 'sub must not be empty'),
  maxUnits(SSO_LIMITS.subMax, `sub must be at most ${SSO_LIMITS.subMax} characters`),
  z.refine((s) => !/[\u0000-\u001F\u007F-\u009F]/.test(s), 'sub must not contain control characters'),
);

const SecondsSchema = z.int().check(z.minimum(0));

/** The claims of a member token; `exp` and `iat` are checked against the clock by the verifier. */
export const SsoClaimsSchema = z.object({
  sub: MemberSubSchema,
  name: AuthorNameInputSchema,
  iat: SecondsSchema,
  exp: SecondsSchema,
  aud: z.union([z.string(), z.array(z.string())]),
  iss: z.optional(z.string().check(maxUnits(SSO_LIMITS.issuerMax))),
  jti: z.optional(z.string().check(minUnits(1), maxUnits(SSO_LIMITS.jtiMax))),
  email: z.optional(
    z
      .string()
      .check(
        maxUnits(SSO_LIMITS.emailMax, `email must be at most ${SSO_LIMITS.emailMax} characters`),
        z.regex(/^[^\s@]+@[^\s@]+$/, 'email must be an e-mail address'),
      ),
  ),
  avatar: z.optional(HttpsUrlSchema),
  url: z.optional(HttpsUrlSchema),
  badges: z.optional(
    z.array(BadgeSchema).check(maxItems(SSO_LIMITS.badgesMax, `At most ${SSO_LIMITS.badgesMax} badges`)),
  ),
});
export type SsoClaims = z.infer<typeof SsoClaimsSchema>;

/** Why a member token was refused; each has a message for the host's developers (SSO_REFUSALS). */
export const SSO_FAILURE_REASONS = [
  'missing',
  'expired',
  'not_yet_valid',
  'bad_signature',
  'wrong_audience',
  'wrong_issuer',
  'bad_algorithm',
  'unknown_kid',
  'too_long_lived',
  'malformed',
  'bad_claims',
] as const;
export type SsoFailureReason = (typeof SSO_FAILURE_REASONS)[number];

/** What a refusal says (in `unauthenticated` errors and logs): which check failed, never the token. */
export const SSO_REFUSALS: Readonly<Record<SsoFailureReason, string>> = {
  missing: 'Sign in to comment: this server accepts comments from signed-in members only',
  expired: 'The sign-in token has expired',
  not_yet_valid: 'The sign-in token is not valid yet (its iat or nbf is in the future: check the clocks)',
  bad_signature: 'The sign-in token has a bad signature (signed with another secret, or changed)',
  wrong_audience: 'The sign-in token is for another audience (aud must be SSO_AUDIENCE)',
  wrong_issuer: 'The sign-in token has the wrong issuer (iss must be SSO_ISSUER)',
  bad_algorithm: 'The sign-in token must be signed with HS256',
  unknown_kid: 'The sign-in token names a key (kid) this server does not have',
  too_long_lived: 'The sign-in token lives too long (exp - iat is over SSO_MAX_TTL_SECONDS)',
  malformed: 'The sign-in token is not a JWT',
  bad_claims: 'The sign-in token has missing or invalid claims',
};

/** `auth:set`: sign the connection in with a member token (the handshake's `auth.ssoToken` does the same). */
export const AuthSetPayloadSchema = z.strictObject({
  token: z.string().check(minUnits(1, 'token must not be empty'), maxUnits(SSO_LIMITS.tokenMax, 'token is too long')),
});
export type AuthSetPayload = z.infer<typeof AuthSetPayloadSchema>;

/** `auth:clear` (sign-out): no fields. */
export const AuthClearPayloadSchema = z.optional(z.strictObject({}));

/** Who the connection is signed in as (the `auth:set` ack's `member`): what the widget shows for them. */
export const SignedInMemberSchema = z.object({
  sub: MemberSubSchema,
  name: z.string(),
  avatar: z.optional(z.string()),
  badges: z.array(z.string()),
  /** When the token expires (s): the widget asks the page for a new one before. */
  exp: z.int(),
});
export type SignedInMember = z.infer<typeof SignedInMemberSchema>;

/** A member's profile as stored (GET /api/me/comments). */
export const MemberProfileSchema = z.object({
  sub: MemberSubSchema,
  name: z.string(),
  email: z.nullable(z.string()),
  avatar: z.nullable(z.string()),
  badges: z.array(z.string()),
  url: z.nullable(z.string()),
});
export type MemberProfile = z.infer<typeof MemberProfileSchema>;

/**
 * `GET /api/me/comments` (member token): the member's stored profile (null before their first post),
 * their comments oldest first (a removed one with its empty body, as readers see it) and those waiting
 * for a moderator.
 */
export const MyCommentsSchema = z.object({
  profile: z.nullable(MemberProfileSchema),
  comments: z.array(CommentSchema),
  held: z.array(HeldCommentSchema),
});
export type MyComments = z.infer<typeof MyCommentsSchema>;

/** Query of `GET /api/me/comments`: `articleId` keeps the comments of one article (the widget asks so on sign-in). */
export const MyCommentsQuerySchema = z.strictObject({ articleId: z.optional(ArticleIdSchema) });

/** `DELETE /api/me` (member token): how many comments were removed now, and held ones deleted. */
export const ErasedSchema = z.object({
  erased: z.object({ comments: z.int().check(z.minimum(0)), held: z.int().check(z.minimum(0)) }),
});
export type Erased = z.infer<typeof ErasedSchema>;
