import type { Readable } from 'node:stream';
import { ImportFileError } from './errors.ts';
import type { SourceDisposition, SourcePost, SourceRecord, SourceThread } from './records.ts';
import { FieldText, readXmlRecords, type XmlElement, type XmlRecordBuilder } from './xml-reader.ts';

/** `YYYY-MM-DD HH:MM:SS` as WordPress writes it, read as UTC; null for WordPress's `0000-00-00 00:00:00` or anything else. */
function wordpressDate(value: string | null): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(value ?? '');
  if (!match || match[1] === '0000') return null;
  const time = Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** What `wp:comment_approved` and `wp:comment_type` say about a comment. */
function disposition(approved: string | null, type: string | null): SourceDisposition {
  const kind = (type ?? '').toLowerCase();
  // Pings, and anything that is not a reader's comment (WooCommerce order notes are private).
  if (kind !== '' && kind !== 'comment' && kind !== 'review') return 'ping';
  switch ((approved ?? '').toLowerCase()) {
    case '1':
    case 'approve':
      return 'visible';
    case '0':
    case 'hold':
      return 'held';
    case 'spam':
      return 'spam';
    default:
      // trash, post-trashed
      return 'deleted';
  }
}

/** The site a WordPress export comes from, without scheme or trailing slash: it scopes comment ids. */
function siteScope(url: string | null): string {
  return (url ?? '').replace(/^https?:\/\//i, '').replace(/\/+$/, '');
}

/**
 * WordPress WXR (RSS 2.0 with `wp:` elements): each `<item>` is a thread, its `<wp:comment>`s the
 * comments. WordPress comment ids are per site, so a comment's source id is scoped by the site's URL
 * (`wp:base_blog_url`, else the channel's link, scheme dropped): the same site exported again is
 * recognised, two sites imported into one store do not collide.
 */
class WxrBuilder implements XmlRecordBuilder<SourceRecord> {
  #site = '';
  #channel = new FieldText();
  #item = new FieldText();
  #comment = new FieldText();
  #items = 0;
  #comments = 0;
  #itemLine = 0;
  #commentLine = 0;
  #inComment = false;

  open(element: XmlElement, path: readonly string[], line: number): void {
    if (path.length === 3 && element.name === 'item') {
      this.#items += 1;
      this.#itemLine = line;
      this.#item.clear();
    } else if (path.length === 4 && path[2] === 'item' && element.name === 'comment') {
      this.#comments += 1;
      this.#commentLine = line;
      this.#comment.clear();
      this.#inComment = true;
    }
  }

  text(text: string, path: readonly string[]): void {
    if (path.length === 3 && path[1] === 'channel') {
      const field = path[2] ?? '';
      if (field === 'base_blog_url' || field === 'link') this.#channel.add(field, text, () => 'channel');
    } else if (path.length === 4 && path[2] === 'item') {
      this.#item.add(path[3] ?? '', text, () => this.#itemLabel());
    } else if (this.#inComment && path.length === 5) {
      this.#comment.add(path[4] ?? '', text, () => this.#commentLabel());
    }
  }

  close(name: string, path: readonly string[]): SourceRecord | null {
    if (path.length === 3 && name === 'item') return this.#thread();
    if (path.length === 4 && path[2] === 'item' && name === 'comment') {
      this.#inComment = false;
      return this.#post();
    }
    return null;
  }

  #scope(): string {
    this.#site ||= siteScope(this.#channel.get('base_blog_url') ?? this.#channel.get('link'));
    return this.#site;
  }

  #itemLabel(): string {
    const id = this.#item.get('post_id');
    return `item #${this.#items}${id ? ` (wp:post_id ${id})` : ''} at line ${this.#itemLine}`;
  }

  #commentLabel(): string {
    const id = this.#comment.get('comment_id');
    return `comment #${this.#comments}${id ? ` (wp:comment_id ${id})` : ''} at line ${this.#commentLine}`;
  }

  #threadKey(): string {
    return `item-${this.#items}`;
  }

  #thread(): SourceThread {
    const item = this.#item;
    const postId = item.get('post_id');
    return {
      kind: 'thread',
      key: this.#threadKey(),
      identity: { ident: item.get('post_name'), otherKeys: postId ? [postId] : [], link: item.get('link') },
      closed: (item.get('comment_status') ?? '').toLowerCase() === 'closed',
      deleted: (item.get('status') ?? '').toLowerCase() === 'trash',
    };
  }

  #post(): SourcePost {
    const c = this.#comment;
    const id = c.get('comment_id');
    if (!id) throw new ImportFileError(`${this.#commentLabel()}: a comment without wp:comment_id`);
    const createdAt = wordpressDate(c.get('comment_date_gmt')) ?? wordpressDate(c.get('comment_date'));
    if (createdAt === null)
      throw new ImportFileError(
        `${this.#commentLabel()}: neither wp:comment_date_gmt nor wp:comment_date is a date ("${c.get('comment_date_gmt') ?? ''}")`,
      );
    const parent = c.get('comment_parent');
    const scope = this.#scope();
    return {
      kind: 'post',
      sourceId: `${scope}#${id}`,
      threadKey: this.#threadKey(),
      parentSourceId: parent && parent !== '0' ? `${scope}#${parent}` : null,
      createdAt,
      author: { name: c.get('comment_author'), username: null, email: c.get('comment_author_email') },
      html: c.raw('comment_content'),
      disposition: disposition(c.get('comment_approved'), c.get('comment_type')),
      label: this.#commentLabel(),
    };
  }
}

/** The records of a WordPress export, streamed; each item's comments come before the item (thread) itself. */
export function readWxr(input: Readable): AsyncGenerator<SourceRecord> {
  return readXmlRecords(input, new WxrBuilder());
}
