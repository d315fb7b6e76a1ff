/**
 * Parses the sample file the product was specified from: a title line, the article (section
 * headings and paragraphs), then comments. A comment is a name line followed by a line that starts
 * with a timestamp like `May 17, 2024 AT 20:41` glued to the first line of the body; further lines
 * until the next name line belong to the body.
 */

export interface SeedComment {
  author: string;
  /** ISO 8601 UTC; the file's times carry no zone and are taken as UTC. */
  createdAt: string;
  body: string;
}

export interface SeedSection {
  heading: string | null;
  paragraphs: string[];
}

export interface SeedArticle {
  title: string;
  sections: SeedSection[];
  comments: SeedComment[];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const STAMP = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* (\d{1,2}), (\d{4}) AT (\d{1,2}):(\d{2})/;

/** A heading is a short line that does not end a sentence. */
function isHeading(line: string): boolean {
  return line.length <= 80 && !/[.!?:;"'”’]$/.test(line);
}

function stampToIso(match: RegExpExecArray): string {
  const [, month, day, year, hour, minute] = match;
  const monthIndex = MONTHS.indexOf(month as (typeof MONTHS)[number]);
  const date = new Date(Date.UTC(Number(year), monthIndex, Number(day), Number(hour), Number(minute)));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(day))
    throw new Error(`Invalid timestamp "${match[0]}"`);
  return date.toISOString();
}

export function parseSeed(text: string): SeedArticle {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const firstStamp = lines.findIndex((line) => STAMP.test(line));
  if (firstStamp < 2) throw new Error('Sample file has no comments (no "Mon D, YYYY AT HH:MM" line after a name)');

  const articleLines = lines
    .slice(0, firstStamp - 1)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const [title, ...rest] = articleLines;
  if (title === undefined) throw new Error('Sample file has no title');
  const sections: SeedSection[] = [];
  for (const line of rest) {
    if (isHeading(line)) sections.push({ heading: line, paragraphs: [] });
    else {
      const current = sections.at(-1) ?? sections[sections.push({ heading: null, paragraphs: [] }) - 1]!;
      current.paragraphs.push(line);
    }
  }

  const comments: SeedComment[] = [];
  let current: { author: string; createdAt: string; bodyLines: string[] } | null = null;
  const flush = () => {
    if (current)
      comments.push({
        author: current.author,
        createdAt: current.createdAt,
        body: current.bodyLines.join('\n').trim(),
      });
  };
  for (let i = firstStamp - 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const next = lines[i + 1];
    const stamp = next === undefined ? null : STAMP.exec(next);
    if (stamp && line.trim().length > 0) {
      flush();
      current = { author: line.trim(), createdAt: stampToIso(stamp), bodyLines: [(next ?? '').slice(stamp[0].length)] };
      i++;
    } else if (current) {
      current.bodyLines.push(line);
    }
  }
  flush();
  return { title, sections, comments };
}
