// Decoding of a raw one-direction BGP byte stream into bgp-decode output records (pure, no I/O): one JSON
// object per message, or an error record naming the offset and the NOTIFICATION a speaker would send.
import { BgpError } from '../wire/errors.js';
import { frameLength } from '../wire/header.js';
import { decodeMessage } from '../wire/message.js';
import { messageToJson, type JsonObject } from '../wire/json.js';
import { HEADER_LEN, type CodecContext } from '../wire/types.js';

const MARKER_LEN = 16;

/**
 * Where the next plausible header starts at or after `from`: the last 16 octets of a run of at least 16
 * 0xFF (a marker is followed by the length's high octet, which is not 0xFF for any length below 65280).
 * -1 when there is none.
 */
export function findMarker(buf: Uint8Array, from: number): number {
  let run = 0;
  for (let i = from; i < buf.length; i++) {
    if (buf[i] === 0xff) {
      run++;
      continue;
    }
    if (run >= MARKER_LEN) return i - MARKER_LEN;
    run = 0;
  }
  return run >= MARKER_LEN ? buf.length - MARKER_LEN : -1;
}

/** True when a header that frames (or would, given more bytes) starts at `at`: marker, length and type. */
function framesAt(buf: Uint8Array, at: number, ctx: CodecContext): boolean {
  try {
    frameLength(buf, at, ctx.maxMessageLen);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first header that frames after `start` and before `end`, or -1. A message whose length field is too
 * large claims the messages behind it; their headers are inside its claimed extent. A run of 0xFF inside a
 * message's data is not a header unless the length and type after it frame too.
 */
export function headerWithin(buf: Uint8Array, start: number, end: number, ctx: CodecContext): number {
  for (let p = findMarker(buf, start + 1); p >= 0 && p < end; p = findMarker(buf, p + 1)) {
    if (framesAt(buf, p, ctx)) return p;
  }
  return -1;
}

function errorRecord(reason: string, offset: number, code: number | undefined, subcode: number | undefined): JsonObject {
  return { error: reason, offset, notification: code === undefined ? null : { code, subcode: subcode ?? 0 } };
}

/**
 * Every message of `buf` in order. A framing error (marker, length, type) yields an error record and
 * decoding resumes at the next marker; a message that frames but does not decode yields an error record
 * and decoding resumes at the first header inside its claimed extent (its length field may be the error),
 * else right after it. Bytes left at the end that cannot hold the announced message give an error record
 * with notification null (a speaker would wait for more); decoding goes on only if a header follows inside
 * them (again a length field too large). Never throws.
 */
export function* decodeStream(buf: Uint8Array, ctx: CodecContext): Generator<JsonObject> {
  for (const s of decodeStreamSpans(buf, ctx)) yield s.record;
}

/** A record of decodeStream and the octets [start, end) it covers (a message its claimed extent, a framing error up to where decoding resumes). */
export interface Span {
  record: JsonObject;
  start: number;
  end: number;
}

/** decodeStream, with the extent of each record (for a capture, to tell in which frame it completed). */
export function* decodeStreamSpans(buf: Uint8Array, ctx: CodecContext): Generator<Span> {
  let o = 0;
  // Each turn either consumes a whole message or moves past a byte that cannot start one, so it ends.
  while (o < buf.length) {
    if (buf.length - o < HEADER_LEN) {
      yield { record: errorRecord(`truncated: ${buf.length - o} octets at end of input, shorter than a header`, o, undefined, undefined), start: o, end: buf.length };
      return;
    }
    let len: number;
    try {
      len = frameLength(buf, o, ctx.maxMessageLen);
    } catch (e) {
      const be = e instanceof BgpError ? e : undefined;
      const next = findMarker(buf, o + 1);
      const record = errorRecord(be ? be.message : `framing failed: ${String(e)}`, be?.offset ?? o, be?.code ?? 1, be?.subcode ?? 0);
      yield { record, start: o, end: next < 0 ? buf.length : next };
      if (next < 0) return;
      o = next;
      continue;
    }
    if (len === 0) {
      const want = (buf[o + 16]! << 8) | buf[o + 17]!;
      const next = headerWithin(buf, o, buf.length, ctx);
      const record = errorRecord(`truncated: message of ${want} octets but only ${buf.length - o} left`, o, undefined, undefined);
      yield { record, start: o, end: next < 0 ? buf.length : next };
      if (next < 0) return;
      o = next;
      continue;
    }
    const msg = buf.subarray(o, o + len);
    let record: JsonObject;
    let ok = true;
    try {
      record = messageToJson(decodeMessage(msg, ctx));
    } catch (e) {
      ok = false;
      record = e instanceof BgpError
        ? errorRecord(e.message, o + (e.offset ?? 0), e.code, e.subcode)
        : errorRecord(`internal decoder error: ${e instanceof Error ? e.message : String(e)}`, o, undefined, undefined);
    }
    // After an error, not past its claimed end: with a length field too large, that would hide the messages behind it.
    const next = ok ? o + len : headerWithin(buf, o, o + len, ctx);
    yield { record, start: o, end: o + len };
    o = next >= 0 ? next : o + len;
  }
}
