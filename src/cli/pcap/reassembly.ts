// TCP reassembly of a capture: segments grouped into connections (several per file, a new one when a SYN
// starts over on the same addresses and ports), each direction ordered by sequence number. Retransmitted
// and overlapping data counts once (the first copy captured wins), out-of-order segments wait for the gap
// before them, and for each stretch of bytes it records the frame in which it became contiguous: that is
// where a receiver (and tshark) sees a message complete. Pure.
import { TCP_FIN, TCP_RST, TCP_SYN, endpointText, type TcpSegment } from './ip-tcp.js';

/** The stream became contiguous up to `end` (offset within its piece) with this frame. */
export interface Delivery {
  end: number;
  frame: number;
  timeNs: bigint | undefined;
}

/** A contiguous stretch of one direction's bytes; `start` is its offset in the stream (0 = first data octet). */
export interface Piece {
  start: number;
  bytes: Uint8Array;
  deliveries: Delivery[];
}

export interface DirectionStream {
  from: string;
  to: string;
  /** In stream order; between two pieces the capture lacks bytes (lost, or cut by the snap length). */
  pieces: Piece[];
  /** The capture holds this direction's SYN, so offset 0 is the first octet the sender ever sent. */
  sawSyn: boolean;
  sawFin: boolean;
  sawRst: boolean;
}

export interface Connection {
  /** 1-based, in order of the connection's first frame. */
  id: number;
  /** [0] is the direction of the connection's first captured segment (the client's when its SYN is there). */
  dirs: [DirectionStream, DirectionStream];
}

export interface CapturedSegment {
  seg: TcpSegment;
  frame: number;
  timeNs: bigint | undefined;
}

interface DataSeg {
  seq: number; // sequence number of the first payload octet
  data: Uint8Array;
  frame: number;
  timeNs: bigint | undefined;
}

interface DirState {
  from: string;
  to: string;
  isn: number | undefined;
  segs: DataSeg[];
  fin: boolean;
  rst: boolean;
}

interface ConnState {
  dirs: [DirState, DirState];
}

const newDir = (from: string, to: string): DirState => ({ from, to, isn: undefined, segs: [], fin: false, rst: false });

/** Signed distance from b to a in sequence space (RFC 793 arithmetic modulo 2^32). */
const seqDiff = (a: number, b: number): number => (a - b) | 0;

export function reassemble(segments: Iterable<CapturedSegment>): Connection[] {
  const all: ConnState[] = [];
  const current = new Map<string, ConnState>();
  for (const { seg, frame, timeNs } of segments) {
    const from = endpointText(seg.family, seg.src, seg.srcPort);
    const to = endpointText(seg.family, seg.dst, seg.dstPort);
    const key = from < to ? `${from} ${to}` : `${to} ${from}`;
    let conn = current.get(key);
    const syn = (seg.flags & TCP_SYN) !== 0;
    if (conn !== undefined && syn) {
      const d = conn.dirs[conn.dirs[0].from === from ? 0 : 1];
      const used = conn.dirs.some((x) => x.segs.length > 0 || x.fin || x.rst);
      // A SYN with another initial sequence number, or one after data or a close: the ports were reused.
      if ((d.isn !== undefined && d.isn !== seg.seq) || (d.isn === undefined && used)) conn = undefined;
    }
    if (conn === undefined) {
      conn = { dirs: [newDir(from, to), newDir(to, from)] };
      all.push(conn);
      current.set(key, conn);
    }
    const d = conn.dirs[conn.dirs[0].from === from ? 0 : 1];
    if (syn) d.isn = seg.seq;
    if (seg.flags & TCP_FIN) d.fin = true;
    if (seg.flags & TCP_RST) d.rst = true;
    // SYN occupies one sequence number: data carried on a SYN (TCP Fast Open) starts after it.
    if (seg.payload.length > 0) d.segs.push({ seq: (seg.seq + (syn ? 1 : 0)) >>> 0, data: seg.payload, frame, timeNs });
  }
  return all.map((c, i) => ({ id: i + 1, dirs: [finish(c.dirs[0]), finish(c.dirs[1])] }));
}

interface Placed {
  start: number;
  end: number;
  seg: DataSeg;
}

function finish(d: DirState): DirectionStream {
  const out: DirectionStream = { from: d.from, to: d.to, pieces: [], sawSyn: d.isn !== undefined, sawFin: d.fin, sawRst: d.rst };
  if (d.segs.length === 0) return out;
  // Offsets from the first data octet after the SYN; without a SYN, from the lowest sequence number seen.
  const ref = d.isn !== undefined ? (d.isn + 1) >>> 0 : d.segs[0]!.seq;
  let base = 0;
  if (d.isn === undefined) for (const s of d.segs) base = Math.min(base, seqDiff(s.seq, ref));
  const placed: Placed[] = [];
  for (const s of d.segs) {
    let start = seqDiff(s.seq, ref) - base;
    let data = s.data;
    if (start < 0) {
      // Data before the SYN's sequence number: not part of this connection's stream.
      if (start + data.length <= 0) continue;
      data = data.subarray(-start);
      start = 0;
    }
    placed.push({ start, end: start + data.length, seg: { ...s, data } });
  }
  // Pieces: the union of the segments' extents.
  const sorted = [...placed].sort((a, b) => a.start - b.start);
  const extents: { start: number; end: number; members: Placed[] }[] = [];
  for (const p of sorted) {
    const last = extents[extents.length - 1];
    if (last !== undefined && p.start <= last.end) {
      last.end = Math.max(last.end, p.end);
      last.members.push(p);
    } else extents.push({ start: p.start, end: p.end, members: [p] });
  }
  for (const e of extents) {
    const bytes = new Uint8Array(e.end - e.start);
    // In capture order, the first copy of each octet wins: write them last-to-first.
    const inOrder = [...e.members].sort((a, b) => a.seg.frame - b.seg.frame);
    for (let i = inOrder.length - 1; i >= 0; i--) bytes.set(inOrder[i]!.seg.data, inOrder[i]!.start - e.start);
    out.pieces.push({ start: e.start, bytes, deliveries: deliveries(e.start, inOrder) });
  }
  return out;
}

/** When each prefix of a piece became contiguous, replaying its segments in capture order. */
function deliveries(pieceStart: number, inOrder: Placed[]): Delivery[] {
  const out: Delivery[] = [];
  let next = pieceStart;
  let pending: Placed[] = [];
  for (const p of inOrder) {
    pending.push(p);
    const before = next;
    // Each pass either extends `next` or stops; pending only shrinks, so this ends.
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const q of pending) {
        if (q.start <= next && q.end > next) {
          next = q.end;
          progressed = true;
        }
      }
      pending = pending.filter((q) => q.end > next);
    }
    if (next > before) out.push({ end: next - pieceStart, frame: p.seg.frame, timeNs: p.seg.timeNs });
  }
  return out;
}
