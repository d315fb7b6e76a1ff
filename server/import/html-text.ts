import { Parser } from 'htmlparser2';

/** Elements that end a line (a block); `p` and friends also leave an empty line after them. */
const LINE_BLOCKS = new Set(['div', 'li', 'tr', 'dt', 'dd', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'table']);
const PARAGRAPH_BLOCKS = new Set(['p', 'blockquote', 'pre']);
/** Elements whose content is not text a reader wrote. */
const SKIPPED = new Set(['script', 'style', 'template', 'head', 'title', 'iframe', 'object', 'noscript']);

export interface HtmlToTextOptions {
  /**
   * `collapse` (Disqus): newlines in the source are plain whitespace, as in HTML; lines come from `<br>`
   * and blocks. `keep` (WordPress): the comment is text whose newlines are line breaks (WordPress turns
   * them into `<br>`/`<p>` only when it shows the comment), with some markup in it.
   */
  newlines: 'collapse' | 'keep';
}

/**
 * A comment body in HTML as our plain text: `<br>` and blocks become newlines (a paragraph leaves an
 * empty line), a link keeps its URL (`text (url)`, or the URL alone when the text is the URL), entities
 * are decoded, everything else is dropped (its text kept; scripts and styles dropped whole). The result
 * still goes through the shared body rules (BodyInputSchema) like any post.
 */
export function htmlToText(html: string, options: HtmlToTextOptions): string {
  let out = '';
  let skipping = 0;
  let preformatted = 0;
  const links: Array<{ href: string | null; start: number }> = [];
  const breakLine = (): void => {
    out = out.replace(/[ \t]+$/, '');
    if (out !== '' && !out.endsWith('\n')) out += '\n';
  };
  const breakParagraph = (): void => {
    breakLine();
    if (out !== '' && !out.endsWith('\n\n')) out += '\n';
  };
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (SKIPPED.has(name)) skipping += 1;
        if (skipping > 0) return;
        if (name === 'br') out += '\n';
        else if (PARAGRAPH_BLOCKS.has(name)) breakParagraph();
        else if (LINE_BLOCKS.has(name)) breakLine();
        if (name === 'pre') preformatted += 1;
        if (name === 'a') links.push({ href: linkTarget(attributes.href), start: out.length });
        if (name === 'li') out += '• ';
      },
      ontext(text) {
        if (skipping > 0) return;
        if (preformatted > 0 || options.newlines === 'keep')
          out += text.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ');
        else out += text.replace(/\s+/g, ' ');
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) {
          skipping = Math.max(0, skipping - 1);
          return;
        }
        if (skipping > 0) return;
        if (name === 'pre') preformatted = Math.max(0, preformatted - 1);
        if (PARAGRAPH_BLOCKS.has(name)) breakParagraph();
        else if (LINE_BLOCKS.has(name)) breakLine();
        if (name === 'a') {
          const link = links.pop();
          if (link?.href) {
            const text = out.slice(link.start).trim();
            if (text === '') out += link.href;
            else if (!sameLink(text, link.href)) out += ` (${link.href})`;
          }
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return out
    .split('\n')
    .map((line) => line.replace(/^[ \t]+|[ \t]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A link worth keeping: http(s) and mailto only (a `javascript:` href is no URL a reader should see). */
function linkTarget(href: string | undefined): string | null {
  const value = href?.trim() ?? '';
  return /^(https?:\/\/|mailto:)/i.test(value) ? value : null;
}

/** The link text already is the URL (perhaps without its scheme or trailing slash, or shortened with an ellipsis). */
function sameLink(text: string, href: string): boolean {
  const bare = (s: string): string => s.replace(/^(https?:\/\/|mailto:)/i, '').replace(/\/$/, '');
  const shown = bare(text);
  const target = bare(href);
  return shown === target || (/(…|\.\.\.)$/.test(shown) && target.startsWith(shown.replace(/(…|\.\.\.)$/, '')));
}
