// bgp-decode on a capture file: frames -> TCP segments -> reassembled directions -> BGP messages, each
// tagged with its connection, direction, and the frame (number, capture time) in which it completed.
// Pure: the CLI does the reading and printing.
import { decodeStreamSpans } from '../decode-stream.js';
import type { JsonObject } from '../../wire/json.js';
import { BGP_PORT_DEFAULT, type CodecContext } from '../../wire/types.js';
import { epochText, type Capture } from './frame.js';
import { isPcap, readPcap } from './pcap.js';
import { isPcapng, readPcapng } from './pcapng.js';
import { tcpSegment } from './ip-tcp.js';
import { reassemble, type CapturedSegment, type Connection, type DirectionStream, type Piece } from './reassembly.js';
import { directionContext, leadingOpen } from './session-context.js';

/** The capture format of a file by its magic number; undefined for anything else (a raw TCP stream). */
export function captureFormat(buf: Uint8Array): 'pcap' | 'pcapng' | undefined {
  if (isPcapng(buf)) return 'pcapng';
  if (isPcap(buf)) return 'pcap';
  return undefined;
}

export function readCapture(buf: Uint8Array): Capture {
  return isPcapng(buf) ? readPcapng(buf) : readPcap(buf);
}

export interface CaptureDecoding {
  /** One per message (or error), ordered by frame, then by stream order. */
  records: JsonObject[];
  /** Why frames were not used, with counts; other traffic than TCP is normal, an unsupported link type is not. */
  skipped: Map<string, number>;
  failed: boolean;
}

export interface CaptureOptions {
  /** Use this context for every direction; by default each direction's comes from the session's OPENs. */
  ctx?: CodecContext;
  /** Context of a direction whose OPENs the capture lacks. */
  fallback: CodecContext;
}

const MARKER = new Uint8Array(16).fill(0xff);

/** A connection worth decoding: on the BGP port, or a direction starting with a BGP marker. */
function looksBgp(c: Connection): boolean {
  const port = (ep: string): number => Number(ep.slice(ep.lastIndexOf(':') + 1));
  if (port(c.dirs[0].from) === BGP_PORT_DEFAULT || port(c.dirs[0].to) === BGP_PORT_DEFAULT) return true;
  return c.dirs.some((d) => {
    const b = d.pieces[0]?.bytes;
    return b !== undefined && b.length >= 16 && MARKER.every((x, i) => b[i] === x);
  });
}

/** The frame in which the piece's octets up to `end` were all there. */
function completedIn(p: Piece, end: number): { frame: number; timeNs: bigint | undefined } {
  for (const d of p.deliveries) if (d.end >= end) return d;
  const last = p.deliveries[p.deliveries.length - 1]!;
  return last;
}

interface Sortable {
  frame: number;
  order: number;
  record: JsonObject;
}

export function decodeCapture(cap: Capture, opts: CaptureOptions): CaptureDecoding {
  const skipped = new Map<string, number>();
  const segs: CapturedSegment[] = [];
  for (const f of cap.frames) {
    const s = tcpSegment(f.linkType, f.data);
    if ('skip' in s) skipped.set(s.skip, (skipped.get(s.skip) ?? 0) + 1);
    else segs.push({ seg: s, frame: f.number, timeNs: f.timeNs });
  }
  const out: Sortable[] = [];
  let failed = false;
  let order = 0;
  for (const conn of reassemble(segs)) {
    if (!looksBgp(conn)) continue;
    const opens = conn.dirs.map((d) => (d.pieces[0]?.start === 0 ? leadingOpen(d.pieces[0].bytes) : undefined));
    conn.dirs.forEach((dir: DirectionStream, i) => {
      const ctx = opts.ctx ?? directionContext(opens[i], opens[1 - i]) ?? opts.fallback;
      const tag = (frame: number, timeNs: bigint | undefined): JsonObject => ({
        frame,
        ...(timeNs === undefined ? {} : { time: epochText(timeNs) }),
        conn: conn.id,
        from: dir.from,
        to: dir.to,
      });
      let expected = 0; // stream offset the next piece should start at
      for (const p of dir.pieces) {
        if (p.start > expected) {
          const first = p.deliveries[0]!;
          failed = true;
          out.push({
            frame: first.frame,
            order: order++,
            record: { ...tag(first.frame, first.timeNs), error: `${p.start - expected} octets of the stream are not in the capture`, offset: expected, notification: null },
          });
        }
        for (const s of decodeStreamSpans(p.bytes, ctx)) {
          const at = completedIn(p, s.end);
          const rec: JsonObject = { ...s.record };
          if ('error' in rec) {
            failed = true;
            if (typeof rec.offset === 'number') rec.offset += p.start;
          }
          out.push({ frame: at.frame, order: order++, record: { ...tag(at.frame, at.timeNs), ...rec } });
        }
        expected = p.start + p.bytes.length;
      }
    });
  }
  out.sort((a, b) => a.frame - b.frame || a.order - b.order);
  if (cap.error) failed = true;
  return { records: out.map((x) => x.record), skipped, failed };
}
