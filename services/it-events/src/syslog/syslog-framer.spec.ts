import { describe, expect, it } from 'vitest';
import { SyslogFramer, type FrameEvent } from './syslog-framer';

const text = (events: FrameEvent[]): string[] => events.map((e) => (e.kind === 'frame' ? e.bytes.toString() : e.kind === 'oversized' ? `oversized:${e.prefix.toString()}` : `lost:${e.reason}`));

describe('SyslogFramer', () => {
  it('splits octet-counted frames, also when a frame spans chunks', () => {
    const f = new SyslogFramer(2048);
    expect(text(f.push(Buffer.from('5 <13>a6 <13>')))).toEqual(['<13>a']);
    expect(text(f.push(Buffer.from('bc')))).toEqual(['<13>bc']);
  });

  it('splits LF-framed messages and drops a CR before the LF', () => {
    const f = new SyslogFramer(2048);
    expect(text(f.push(Buffer.from('<13>one\r\n<13>two\n<13>thr')))).toEqual(['<13>one', '<13>two']);
    expect(f.pendingBytes).toBe(7); // '<13>thr' waits for its LF
  });

  it('decides the framing per frame: octet-counted then LF-framed on one connection', () => {
    const f = new SyslogFramer(2048);
    expect(text(f.push(Buffer.from('4 <1>x<2>y\n')))).toEqual(['<1>x', '<2>y']);
  });

  it('returns a final line without LF when the stream ends', () => {
    const f = new SyslogFramer(2048);
    f.push(Buffer.from('<13>last'));
    expect(f.end().frame?.toString()).toBe('<13>last');
  });

  it('returns a partial octet-counted frame at the end as incomplete', () => {
    const f = new SyslogFramer(2048);
    f.push(Buffer.from('10 <13>ab'));
    expect(f.end().incomplete?.toString()).toBe('10 <13>ab');
  });

  it('keeps the first maxFrameBytes of an oversized octet-counted frame, skips the rest by its count and keeps framing', () => {
    const f = new SyslogFramer(4);
    expect(text(f.push(Buffer.from('10 <13>abcd')))).toEqual(['oversized:<13>']);
    expect(text(f.push(Buffer.from('ef4 <1>z')))).toEqual(['<1>z']);
  });

  it('cuts an oversized LF-framed message and resumes after its LF', () => {
    const f = new SyslogFramer(4);
    expect(text(f.push(Buffer.from('<13>abcdef')))).toEqual(['oversized:<13>']);
    expect(text(f.push(Buffer.from('gh\n<1>z\n')))).toEqual(['<1>z']);
  });

  it('loses framing on an octet count followed by something other than a space', () => {
    const f = new SyslogFramer(2048);
    expect(text(f.push(Buffer.from('12x <13>abc')))).toEqual(['lost:octet count "12x" is not digits followed by a space']);
    expect(f.lost).toBe(true);
    expect(f.push(Buffer.from('<13>more\n'))).toEqual([]);
  });

  it('loses framing on binary data where a frame should start (a TLS ClientHello on the plain port)', () => {
    const f = new SyslogFramer(2048);
    expect(text(f.push(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5])))).toEqual(['lost:byte 0x16 where a frame should start: not syslog (TLS or binary data on a plain TCP port?)']);
  });

  it('ignores NUL trailers and blank lines between frames', () => {
    const f = new SyslogFramer(2048);
    expect(text(f.push(Buffer.from('<1>a\n\0\n\n<2>b\n')))).toEqual(['<1>a', '<2>b']);
  });
});
