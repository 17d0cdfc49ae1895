// Message framing for one BGP connection: TCP chunks in, whole messages (header included) out.
// Handles any split or coalescing; a message that lies inside one chunk is returned without copying.
import { frameLength } from '../wire/header.js';
import { HEADER_LEN, MAX_MESSAGE_LEN } from '../wire/types.js';

/**
 * A queue of received chunks with a read position in the first one.
 * next() returns one whole message or null when more bytes are needed; it throws the codec's
 * BgpError (code 1) for a bad header, after which the connection must be closed.
 */
export class Framer {
  private chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private offset = 0;
  /** Bytes buffered and not yet returned. */
  private pending = 0;
  private maxLen: number;

  constructor(maxLen: number = MAX_MESSAGE_LEN) {
    this.maxLen = maxLen;
  }

  /** The largest message accepted (4096, or 65535 once extended messages are negotiated). */
  setMaxLen(maxLen: number): void {
    this.maxLen = maxLen;
  }

  get buffered(): number {
    return this.pending;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.pending += chunk.length;
  }

  /** Drops everything buffered (connection closed). */
  clear(): void {
    this.chunks = [];
    this.offset = 0;
    this.pending = 0;
  }

  next(): Buffer | null {
    if (this.pending < HEADER_LEN) return null;
    const first = this.chunks[0]!;
    const avail = first.length - this.offset;
    if (avail >= HEADER_LEN) {
      // Common path: the header is inside the first chunk.
      const len = frameLength(first, this.offset, this.maxLen);
      if (len !== 0) {
        const msg = first.subarray(this.offset, this.offset + len);
        this.consume(len);
        return msg;
      }
      // Header complete but the body continues in later chunks: length is known from the header.
      const total = (first[this.offset + 16]! << 8) | first[this.offset + 17]!;
      return this.pending >= total ? this.gather(total) : null;
    }
    // The header itself is split across chunks: check it from a small copy.
    const header = this.peek(HEADER_LEN);
    frameLength(header, 0, this.maxLen); // throws on a bad header; 0 here only means "body not here yet"
    const total = (header[16]! << 8) | header[17]!;
    return this.pending >= total ? this.gather(total) : null;
  }

  /** Copies the first n buffered bytes without consuming them (n <= pending). */
  private peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let off = this.offset;
    for (const c of this.chunks) {
      const take = Math.min(c.length - off, n - filled);
      c.copy(out, filled, off, off + take);
      filled += take;
      off = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Copies out and consumes a message of n bytes that spans several chunks. */
  private gather(n: number): Buffer {
    const out = this.peek(n);
    this.consume(n);
    return out;
  }

  private consume(n: number): void {
    this.pending -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const avail = first.length - this.offset;
      if (n < avail) {
        this.offset += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
