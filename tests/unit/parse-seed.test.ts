import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSeed } from '../../server/seed/parse-seed.ts';

const text = readFileSync(new URL('../../server/seed/data/putin-china-visit.txt', import.meta.url), 'utf8');
const seed = parseSeed(text);

describe('parseSeed on the sample article', () => {
  it('reads the title and the six headed sections after the lead paragraph', () => {
    expect(seed.title).toBe("Putin's Diplomatic Mission in China");
    expect(seed.sections.map((s) => s.heading)).toEqual([
      null,
      'The Inseparable Partnership',
      'Strategic Discussions and Projects',
      'Challenges in Trade Relations',
      'Geopolitical Context',
      'Economic Dependencies',
      'Conclusion',
    ]);
    expect(seed.sections[0]?.paragraphs[0]).toMatch(/^Russian President Vladimir Putin has embarked/);
    expect(seed.sections.every((s) => s.paragraphs.length === 1)).toBe(true);
  });

  it('finds all eight comments with their authors and UTC timestamps', () => {
    expect(seed.comments.map((c) => [c.author, c.createdAt])).toEqual([
      ['Jasmine Hinds', '2024-05-17T20:41:00.000Z'],
      ['Madison Neal', '2024-05-17T20:59:00.000Z'],
      ['John Crulz', '2024-05-17T21:53:00.000Z'],
      ['Anita Drake', '2024-05-17T21:55:00.000Z'],
      ['Eduardo Lopez', '2024-05-17T22:43:00.000Z'],
      ['Nancy Perez de Lezama', '2024-05-17T22:45:00.000Z'],
      ['Matt Heitz', '2024-05-17T23:33:00.000Z'],
      ['Susan Mark', '2024-05-18T00:23:00.000Z'],
    ]);
  });

  it('keeps bodies exact: emoji, accents, curly quotes, non-breaking hyphens and line breaks', () => {
    const [jasmine, madison, , , eduardo, nancy, matt] = seed.comments;
    expect(jasmine?.body).toBe(
      "Can't believe Putin's back in Beijing again 😮 it's like déjà vu all over the place 🚀",
    );
    expect(madison?.body.split('\n')).toHaveLength(15);
    expect(
      madison?.body.startsWith('The recent summit underscores a deepening of the Sino\u2011Russian economic nexus'),
    ).toBe(true);
    expect(madison?.body.endsWith('operational details of this multifaceted partnership.')).toBe(true);
    expect(eduardo?.body).toContain('What we\u2019re witnessing');
    expect(nancy?.body).toBe('The trade figures speak louder than rhetoric.');
    expect(matt?.body).toContain('stop\u2011gaps-they\u2019re geopolitical weapons');
    expect(seed.comments.every((c) => c.body === c.body.trim() && c.body.length > 0)).toBe(true);
  });

  it('accepts CRLF files and rejects a file without comments', () => {
    expect(parseSeed(text.replace(/\n/g, '\r\n')).comments).toEqual(seed.comments);
    expect(() => parseSeed('Title\nJust a paragraph.')).toThrow(/no comments/);
  });

  it('rejects an impossible date', () => {
    expect(() => parseSeed('T\nName\nFeb 31, 2024 AT 10:00Body')).toThrow(/Invalid timestamp/);
  });
});
