/** What the framer found in the bytes pushed so far. */
export type FrameEvent =
  /** A complete frame (one syslog message). */
  | { kind: 'frame'; bytes: Buffer; framing: 'octet-counting' | 'non-transparent' }
  /** A frame longer than the limit: its first `maxFrameBytes` bytes; the rest was (or will be) skipped. */
  | { kind: 'oversized'; prefix: Buffer; declaredBytes?: number }
  /** The stream is not syslog framing; nothing after this can be framed. */
  | { kind: 'lost'; reason: string };

const LF = 0x0a;
const SP = 0x20;

/**
 * Splits a TCP byte stream into syslog frames (RFC 6587), deciding per frame:
 * a frame that starts with a digit is octet-counted (`MSG-LEN SP MSG`; a
 * syslog message itself starts with `<`), anything else is non-transparent
 * (ends at LF; a CR before it is dropped). Memory is bounded by
 * `maxFrameBytes`: a longer octet-counted frame is skipped by its declared
 * length, a longer LF-framed one up to its LF, and either way framing
 * survives. Framing is lost only when the stream cannot be read as syslog at
 * all: a malformed octet count, or control bytes where a frame should start
 * (TLS or other binary data on a plain port).
 */
export class SyslogFramer {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of an oversized frame still to be skipped (octet counting). */
  private skipBytes = 0;
  /** Skipping an oversized LF-framed frame until its LF. */
  private skipToLf = false;
  private lostReason: string | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** True once framing is lost; later pushes return nothing. */
  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /** Adds bytes from the stream and returns the frames (and problems) they completed. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.lostReason !== undefined) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FrameEvent[] = [];
    for (;;) {
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, this.buffer.length);
        this.skipBytes -= n;
        this.buffer = this.buffer.subarray(n);
        if (this.skipBytes > 0) return out;
      }
      if (this.skipToLf) {
        const lf = this.buffer.indexOf(LF);
        if (lf < 0) {
          this.buffer = Buffer.alloc(0);
          return out;
        }
        this.skipToLf = false;
        this.buffer = this.buffer.subarray(lf + 1);
      }
      if (this.buffer.length === 0) return out;
      const event = this.next();
      if (!event) return out;
      out.push(event);
      if (event.kind === 'lost') {
        this.lostReason = event.reason;
        this.buffer = Buffer.alloc(0);
        return out;
      }
    }
  }

  /**
   * The stream ended: a non-transparent frame without its final LF is still a
   * message; a partial octet-counted frame is returned as `incomplete`.
   */
  end(): { frame?: Buffer; incomplete?: Buffer } {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    if (this.lostReason !== undefined || this.skipBytes > 0 || this.skipToLf || rest.length === 0) return {};
    const first = rest[0]!;
    if (first >= 0x31 && first <= 0x39) return { incomplete: rest };
    const text = trimLineEnd(rest);
    return text.length > 0 ? { frame: text } : {};
  }

  private next(): FrameEvent | undefined {
    const b = this.buffer;
    const first = b[0]!;
    if (first === LF || first === 0x0d || first === 0) {
      // Stray line ends and NUL trailers between frames carry nothing.
      this.buffer = b.subarray(1);
      return this.buffer.length > 0 ? this.next() : undefined;
    }
    if (first >= 0x31 && first <= 0x39) return this.octetCounted();
    if (first < 0x20 && first !== 0x09) return { kind: 'lost', reason: `byte 0x${first.toString(16).padStart(2, '0')} where a frame should start: not syslog (TLS or binary data on a plain TCP port?)` };
    return this.lineFramed();
  }

  private octetCounted(): FrameEvent | undefined {
    const b = this.buffer;
    const sp = b.indexOf(SP);
    const digitsEnd = sp < 0 ? Math.min(b.length, 11) : sp;
    for (let i = 0; i < digitsEnd; i++) {
      const c = b[i]!;
      if (c < 0x30 || c > 0x39) return { kind: 'lost', reason: `octet count "${printable(b.subarray(0, i + 1))}" is not digits followed by a space` };
    }
    if (sp < 0) {
      // MSG-LEN has at most 10 digits here (over 4 GB would be absurd): more is not a count.
      return b.length > 10 ? { kind: 'lost', reason: 'octet count longer than 10 digits' } : undefined;
    }
    if (sp > 10) return { kind: 'lost', reason: 'octet count longer than 10 digits' };
    const length = Number(b.subarray(0, sp).toString('latin1'));
    const start = sp + 1;
    if (length > this.maxFrameBytes) {
      if (b.length - start < this.maxFrameBytes) return undefined; // wait for the prefix we keep
      const prefix = Buffer.from(b.subarray(start, start + this.maxFrameBytes));
      const available = b.length - start;
      const consumed = Math.min(available, length);
      this.buffer = b.subarray(start + consumed);
      this.skipBytes = length - consumed;
      return { kind: 'oversized', prefix, declaredBytes: length };
    }
    if (b.length - start < length) return undefined;
    const frame = Buffer.from(b.subarray(start, start + length));
    this.buffer = b.subarray(start + length);
    return { kind: 'frame', bytes: frame, framing: 'octet-counting' };
  }

  private lineFramed(): FrameEvent | undefined {
    const b = this.buffer;
    const lf = b.indexOf(LF);
    if (lf < 0) {
      if (b.length <= this.maxFrameBytes) return undefined;
      const prefix = Buffer.from(b.subarray(0, this.maxFrameBytes));
      this.buffer = Buffer.alloc(0);
      this.skipToLf = true;
      return { kind: 'oversized', prefix };
    }
    if (lf > this.maxFrameBytes) {
      const prefix = Buffer.from(b.subarray(0, this.maxFrameBytes));
      this.buffer = b.subarray(lf + 1);
      return { kind: 'oversized', prefix };
    }
    const frame = Buffer.from(trimLineEnd(b.subarray(0, lf)));
    this.buffer = b.subarray(lf + 1);
    if (frame.length === 0) return this.buffer.length > 0 ? this.next() : undefined;
    return { kind: 'frame', bytes: frame, framing: 'non-transparent' };
  }
}

function trimLineEnd(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0x0d || b[end - 1] === LF || b[end - 1] === 0)) end--;
  return b.subarray(0, end);
}

function printable(b: Buffer): string {
  return b.toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
