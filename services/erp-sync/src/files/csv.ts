/** One data row of a CSV file with the line it starts on (1-based, the header is line 1). */
export interface CsvRow {
  line: number;
  values: Record<string, string>;
}

/** A CSV file that cannot be read as a table; `line` is where the problem is. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * Parses RFC 4180 CSV with a header row: fields in double quotes may hold the
 * delimiter, line breaks and doubled quotes; CRLF or LF line ends; a UTF-8 BOM
 * is ignored. The delimiter is `,` or, when the header has more `;` than `,`
 * (spreadsheets in locales with a decimal comma), `;`. Blank lines are skipped.
 * A row with more fields than the header is an error; missing trailing fields are empty.
 */
export function parseCsv(text: string): { header: string[]; rows: CsvRow[] } {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLineEnd = src.search(/\r?\n/);
  const firstLine = firstLineEnd < 0 ? src : src.slice(0, firstLineEnd);
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';

  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  let line = 1;
  let recordLine = 1;
  const endField = (): void => {
    fields.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRecord = (): void => {
    endField();
    // A record of one empty field is a blank line.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          const after = src[i + 1];
          if (after !== undefined && after !== delimiter && after !== '\n' && after !== '\r') throw new CsvSyntaxError(line, `unexpected character ${JSON.stringify(after)} after a closing quote`);
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted && field === '') {
      quoted = true;
      fieldStarted = true;
      continue;
    }
    if (c === delimiter) {
      endField();
      continue;
    }
    if (c === '\r' && src[i + 1] === '\n') continue;
    if (c === '\n' || c === '\r') {
      endRecord();
      line++;
      recordLine = line;
      continue;
    }
    if (c === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
    field += c;
    fieldStarted = true;
  }
  if (quoted) throw new CsvSyntaxError(recordLine, 'a quoted field is not closed before the end of the file');
  if (field !== '' || fields.length > 0) endRecord();

  const [head, ...body] = records;
  if (!head) throw new CsvSyntaxError(1, 'the file is empty (a header row is required)');
  const header = head.fields.map((h) => h.trim());
  const seen = new Set<string>();
  header.forEach((h, i) => {
    if (h === '') throw new CsvSyntaxError(1, `column ${i + 1} of the header has no name`);
    if (seen.has(h)) throw new CsvSyntaxError(1, `column "${h}" appears twice in the header`);
    seen.add(h);
  });
  const rows = body.map(({ line: l, fields: f }): CsvRow => {
    if (f.length > header.length) throw new CsvSyntaxError(l, `${f.length} fields but the header has ${header.length} columns`);
    return { line: l, values: Object.fromEntries(header.map((h, i) => [h, f[i] ?? ''])) };
  });
  return { header, rows };
}
