import type { Readable } from 'node:stream';
import { ImportFileError } from './errors.ts';
import type { SourcePost, SourceRecord, SourceThread } from './records.ts';
import { FieldText, readXmlRecords, type XmlElement, type XmlRecordBuilder } from './xml-reader.ts';

const isTrue = (value: string | null): boolean => value === 'true' || value === '1';

/** An ISO date as Disqus writes it (`2013-03-12T15:12:33Z`), normalised; null when it is not a date. */
export function isoDate(value: string | null): string | null {
  if (value === null || value === '') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/**
 * Disqus XML export (`<disqus>`: categories, then `<thread dsq:id>`s, then `<post dsq:id>`s). A post
 * names its thread and parent by `dsq:id`; the parent may come later in the file (the importer stages
 * every post before it resolves the tree). A post without an id or a date makes the file malformed.
 */
class DisqusBuilder implements XmlRecordBuilder<SourceRecord> {
  #kind: 'thread' | 'post' | null = null;
  #dsqId: string | null = null;
  #threadRef: string | null = null;
  #parentRef: string | null = null;
  #fields = new FieldText();
  #count = 0;
  #startLine = 0;

  open(element: XmlElement, path: readonly string[], line: number): void {
    if (path.length === 2 && (element.name === 'thread' || element.name === 'post')) {
      this.#kind = element.name;
      this.#dsqId = element.attributes.id ?? null;
      this.#threadRef = null;
      this.#parentRef = null;
      this.#fields.clear();
      this.#count += 1;
      this.#startLine = line;
      return;
    }
    if (this.#kind === 'post' && path.length === 3) {
      if (element.name === 'thread') this.#threadRef = element.attributes.id ?? null;
      if (element.name === 'parent') this.#parentRef = element.attributes.id ?? null;
    }
  }

  text(text: string, path: readonly string[]): void {
    if (this.#kind === null || path.length < 3) return;
    this.#fields.add(path.slice(2).join('/'), text, () => this.#label());
  }

  close(name: string, path: readonly string[]): SourceRecord | null {
    if (path.length !== 2 || this.#kind === null || name !== this.#kind) return null;
    const record = this.#kind === 'thread' ? this.#thread() : this.#post();
    this.#kind = null;
    return record;
  }

  #label(): string {
    const id = this.#dsqId ?? this.#fields.get('id');
    return `${this.#kind ?? 'record'} #${this.#count}${id ? ` (dsq:id ${id})` : ''} at line ${this.#startLine}`;
  }

  #thread(): SourceThread {
    const fields = this.#fields;
    const key = this.#dsqId ?? fields.get('id');
    if (!key) throw new ImportFileError(`${this.#label()}: a thread without dsq:id`);
    return {
      kind: 'thread',
      key,
      identity: { ident: fields.get('id'), otherKeys: [key], link: fields.get('link') },
      closed: isTrue(fields.get('isClosed')),
      deleted: isTrue(fields.get('isDeleted')),
    };
  }

  #post(): SourcePost {
    const fields = this.#fields;
    const legacyId = fields.get('id');
    const sourceId = this.#dsqId ?? (legacyId ? `id:${legacyId}` : null);
    if (!sourceId) throw new ImportFileError(`${this.#label()}: a post without dsq:id or <id>`);
    const createdAt = isoDate(fields.get('createdAt'));
    if (createdAt === null)
      throw new ImportFileError(`${this.#label()}: <createdAt> "${fields.get('createdAt') ?? ''}" is not a date`);
    return {
      kind: 'post',
      sourceId,
      threadKey: this.#threadRef,
      parentSourceId: this.#parentRef,
      createdAt,
      author: {
        name: fields.get('author/name'),
        username: isTrue(fields.get('author/isAnonymous')) ? null : fields.get('author/username'),
        email: fields.get('author/email'),
      },
      html: fields.raw('message'),
      disposition: isTrue(fields.get('isSpam')) ? 'spam' : isTrue(fields.get('isDeleted')) ? 'deleted' : 'visible',
      label: this.#label(),
    };
  }
}

/** The records of a Disqus export, streamed. */
export function readDisqus(input: Readable): AsyncGenerator<SourceRecord> {
  return readXmlRecords(input, new DisqusBuilder());
}
