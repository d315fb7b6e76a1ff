/**
 * The import file (or its map) is not what its format says: XML that is not well-formed, a record
 * without an id or a date, a JSON line that is not a native record. The message names the record
 * (its number, its id and its line); nothing of the file has been written when it is thrown.
 */
export class ImportFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImportFileError';
  }
}
