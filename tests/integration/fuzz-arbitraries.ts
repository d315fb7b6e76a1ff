/**
 * fast-check arbitraries shared by the REST and socket fuzz tests: hostile strings (the naughty list,
 * arbitrary code points, lone surrogates, lengths around every limit), hostile values (wrong types,
 * deep nesting, prototype keys) and near-valid posts built from them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import * as z from 'zod/mini';

const NaughtyFileSchema = z.object({ about: z.string(), strings: z.array(z.string()) });

/** The naughty-strings list (tests/fixtures/naughty-strings.json). */
export const NAUGHTY_STRINGS: readonly string[] = NaughtyFileSchema.parse(
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'naughty-strings.json'), 'utf8')),
).strings;

/** Keys that reach Object.prototype when code copies objects carelessly. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineSetter__',
] as const;

/** Characters that test every text rule: bidi controls, invisibles, controls, astral, combining, lone surrogates. */
const TRICKY_UNITS = [
  'a',
  'Z',
  ' ',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u0007',
  '\u007f',
  '\u0085',
  '\u00ad',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2066',
  '\u2069',
  '\ufeff',
  '\u0301',
  '語',
  '😀',
  '\ud800',
  '\udfff',
  '<',
  '"',
  '\\',
  '%',
];

/**
 * Text that is not well-formed UTF-16: lone high or low surrogates, pairs in the wrong order, a pair
 * cut by the end of a limit. Stores keep such text differently from how it was counted (SQLite as
 * three U+FFFD, PostgreSQL as one), so everything accepted must be made well-formed before it is counted.
 */
export const illFormedString: fc.Arbitrary<string> = fc.oneof(
  fc.string({
    unit: fc.constantFrom('a', ' ', '😀', '\ud800', '\udbff', '\udc00', '\udfff'),
    minLength: 1,
    maxLength: 40,
  }),
  fc
    .tuple(
      fc.constantFrom(1, 23, 24, 59, 60, 61, 4999, 5000, 5001),
      fc.constantFrom('\ud800', '\udfff', '\udc00\ud800', '\ud83d'),
      fc.constantFrom('n', '😀'),
    )
    .map(
      ([n, lone, unit]) => `${unit.repeat(Math.ceil(n / unit.length)).slice(0, Math.max(0, n - lone.length))}${lone}`,
    ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map((s) => `${s}\ud800${s}`),
);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: illFormedString },
  { weight: 4, arbitrary: fc.constantFrom(...NAUGHTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...TRICKY_UNITS), maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...NAUGHTY_STRINGS), fc.string({ maxLength: 10 }))
      .map(([a, b]) => `${b}${a}${b}`),
  },
  // Around the limits: 60-char names, 5000-char bodies, the 20,000-char raw bound, the 64 KB message.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(59, 60, 61, 240, 241, 4999, 5000, 5001, 19_999, 20_001),
        fc.constantFrom('a', '語', '😀', ' ', '\u202e', 'ab\u0301'),
      )
      .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n)),
  },
);

/** Nested arrays or objects `depth` deep, as JSON text (deeper than any recursive walker should go). */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** Any JSON value, hostile strings included. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, [], {}),
  },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 5 }) },
);

/** A JSON object as text, keys possibly repeated or prototype keys (JSON.stringify of an object could not write those). */
export function objectText(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([key, valueText]) => `${JSON.stringify(key)}:${valueText}`).join(',')}}`;
}

const valueText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: hostileValue.map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 1, arbitrary: deepJsonText },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS).map((key) => objectText([[key, '{"polluted":true}']])) },
);

const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('author', 'body', 'parentId', 'clientId', 'articleId', 'since', 'name') },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: hostileString },
);

/** A name a reader could have typed, but with lone surrogates among its characters. */
const illFormedName: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom('a', 'B', ' ', 'é', '😀', '\ud800', '\udbff', '\udc00', '\udfff'),
  minLength: 1,
  maxLength: 60,
});

/** A post body as JSON text: mostly near-valid (real fields with hostile values), with extra and prototype keys. */
export const postBodyText: fc.Arbitrary<string> = fc.oneof(
  // Valid but for ill-formed text: must be accepted well-formed, and read back as it was counted.
  {
    weight: 3,
    arbitrary: fc
      .record({ name: illFormedName, body: illFormedString })
      .map(({ name, body }) => JSON.stringify({ author: { name }, body })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({
        name: fc.oneof(
          { weight: 3, arbitrary: hostileString.map((s) => JSON.stringify(s)) },
          { weight: 1, arbitrary: valueText },
        ),
        body: fc.oneof(
          { weight: 3, arbitrary: hostileString.map((s) => JSON.stringify(s)) },
          { weight: 1, arbitrary: valueText },
        ),
        extra: fc.array(fc.tuple(keyArb, valueText), { maxLength: 2 }),
        parentId: fc.option(valueText, { nil: undefined }),
        clientId: fc.option(
          fc.oneof(
            fc
              .string({ unit: fc.constantFrom('a', 'B', '0', '_', '-'), minLength: 10, maxLength: 64 })
              .map((s) => JSON.stringify(s)),
            valueText,
          ),
          { nil: undefined },
        ),
      })
      .map(({ name, body, extra, parentId, clientId }) =>
        objectText([
          ['author', objectText([['name', name]])],
          ['body', body],
          ...(parentId === undefined ? [] : [['parentId', parentId] as const]),
          ...(clientId === undefined ? [] : [['clientId', clientId] as const]),
          ...extra,
        ]),
      ),
  },
  { weight: 1, arbitrary: valueText },
  { weight: 1, arbitrary: fc.array(fc.tuple(keyArb, valueText), { maxLength: 4 }).map(objectText) },
);
