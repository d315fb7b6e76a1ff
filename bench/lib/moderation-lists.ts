/**
 * Deterministic word lists for the moderation bench: `count` made-up words (none of them English, so
 * a realistic body matches none and every word of it is looked up), phrases of two words every tenth.
 */
export function benchWordList(prefix: string, count: number): string[] {
  const syllables = ['ka', 'zu', 'vor', 'mil', 'tre', 'qua', 'nix', 'bel', 'dro', 'sep', 'yol', 'wim'];
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    let n = i;
    let word = prefix;
    do {
      word += syllables[n % syllables.length];
      n = Math.floor(n / syllables.length);
    } while (n > 0);
    words.push(i % 10 === 9 ? `${word} ${words[i - 1]!}` : word);
  }
  return words;
}

/** Comment bodies of the size readers write (about 250–600 characters), varied so no cache helps. */
export function benchBodies(count: number): string[] {
  const sentences = [
    'I read the whole article twice and I still think the second half misses the point entirely.',
    'Great reporting, thanks for linking the sources at https://example.org/report so we can check.',
    'The numbers in the third paragraph do not add up; 12% of 4,000 is 480, not 520.',
    "Can someone explain why the council didn't vote on this last year when it was first proposed?",
    'Über die Brücke fährt man schneller, aber die Straße dahinter ist seit Monaten gesperrt.',
    'This is exactly what happened in my town too — the café closed and nobody noticed for weeks.',
  ];
  return Array.from({ length: count }, (_, i) => {
    const parts: string[] = [];
    for (let k = 0; k < 3 + (i % 4); k++) parts.push(sentences[(i + k * 5) % sentences.length]!);
    return `${parts.join(' ')} (#${i})`;
  });
}
