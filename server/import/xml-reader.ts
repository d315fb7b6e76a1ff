import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { SaxesParser } from 'saxes';
import { ImportFileError } from './errors.ts';
import { MAX_FIELD_CHARS } from './records.ts';

/** An element as a format's reader sees it: its local name (prefix dropped) and attributes by local name. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
}

/** What a format's reader does with the elements of a document; it returns the records it completed. */
export interface XmlRecordBuilder<R> {
  open(element: XmlElement, path: readonly string[], line: number): void;
  /** Text (and CDATA) of the element at the end of `path`. */
  text(text: string, path: readonly string[]): void;
  close(name: string, path: readonly string[], line: number): R | null;
}

const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

/**
 * Streams an XML document through saxes (strict XML 1.0: a document that is not well-formed fails with
 * its line and column) and yields the records the builder completes, chunk by chunk: memory holds one
 * chunk's records and the record being read, never the document.
 */
export async function* readXmlRecords<R>(input: Readable, builder: XmlRecordBuilder<R>): AsyncGenerator<R> {
  const parser = new SaxesParser({ position: true });
  const path: string[] = [];
  const ready: R[] = [];
  // Set by the parser's callbacks (an object, so the checks after each write are not narrowed away).
  const state: { failure: Error | null } = { failure: null };
  parser.on('error', (error) => {
    state.failure ??= new ImportFileError(`Not well-formed XML: ${error.message}`);
  });
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(tag.attributes))
      attributes[localName(name)] = typeof value === 'string' ? value : String((value as { value: unknown }).value);
    const name = localName(tag.name);
    path.push(name);
    builder.open({ name, attributes }, path, parser.line);
  });
  const onText = (text: string): void => {
    if (path.length > 0) builder.text(text, path);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', (tag) => {
    const record = builder.close(localName(tag.name), path, parser.line);
    path.pop();
    if (record !== null) ready.push(record);
  });
  // A chunk may end inside a multi-byte character: the decoder keeps the partial bytes for the next one.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of input) {
    parser.write(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    if (state.failure) throw state.failure;
    yield* ready.splice(0);
  }
  parser.write(decoder.end());
  parser.close();
  if (state.failure) throw state.failure;
  yield* ready.splice(0);
}

/** Collects the text of the fields of one record, each bounded by MAX_FIELD_CHARS. */
export class FieldText {
  #fields = new Map<string, string>();

  add(field: string, text: string, label: () => string): void {
    const next = (this.#fields.get(field) ?? '') + text;
    if (next.length > MAX_FIELD_CHARS)
      throw new ImportFileError(`${label()}: <${field}> is longer than ${MAX_FIELD_CHARS} characters`);
    this.#fields.set(field, next);
  }

  get(field: string): string | null {
    const value = this.#fields.get(field);
    return value === undefined ? null : value.trim();
  }

  raw(field: string): string {
    return this.#fields.get(field) ?? '';
  }

  clear(): void {
    this.#fields.clear();
  }
}
