// pcapng files (tshark/dumpcap -w, tcpdump --pcapng): sections in either byte order, several interfaces,
// Enhanced, Simple and (obsolete) Packet blocks; other blocks are skipped. Pure: bytes in, frames out.
import { CaptureError, type Capture, type Frame } from './frame.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const OBSOLETE_PB = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface Interface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second, and whether it is a power of ten (else of two). */
  ticksPerSecond: bigint;
  offsetSeconds: bigint;
}

export function isPcapng(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x0a && buf[1] === 0x0d && buf[2] === 0x0d && buf[3] === 0x0a;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** if_tsresol and if_tsoffset from an IDB's options (defaults: microseconds, no offset). */
function interfaceOptions(dv: DataView, from: number, to: number, le: boolean): { ticks: bigint; offset: bigint } {
  let ticks = 1_000_000n;
  let offset = 0n;
  let o = from;
  while (o + 4 <= to) {
    const code = dv.getUint16(o, le);
    const len = dv.getUint16(o + 2, le);
    if (code === 0) break; // opt_endofopt
    if (o + 4 + len > to) break;
    if (code === OPT_IF_TSRESOL && len >= 1) {
      const v = dv.getUint8(o + 4);
      ticks = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
    } else if (code === OPT_IF_TSOFFSET && len >= 8) {
      offset = dv.getBigInt64(o + 4, le);
    }
    o += 4 + pad4(len);
  }
  return { ticks, offset };
}

function toNs(ticks: bigint, itf: Interface): bigint {
  const sec = ticks / itf.ticksPerSecond;
  const rest = ticks % itf.ticksPerSecond;
  return (sec + itf.offsetSeconds) * 1_000_000_000n + (rest * 1_000_000_000n) / itf.ticksPerSecond;
}

export function readPcapng(buf: Uint8Array): Capture {
  const frames: Frame[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (msg: string, at: number): Capture => ({ format: 'pcapng', frames, error: new CaptureError(msg, at) });
  let le = true;
  let ifaces: Interface[] = [];
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < 12) return fail(`truncated block header: ${buf.length - o} octets at end of file`, o);
    let type = dv.getUint32(o, le);
    if (dv.getUint32(o, true) === SHB) {
      // A new section: its own byte order (from the byte-order magic) and its own interfaces.
      type = SHB;
      const bom = dv.getUint32(o + 8, true);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (dv.getUint32(o + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else return fail(`section header block with unknown byte-order magic 0x${bom.toString(16)}`, o);
      ifaces = [];
    }
    const len = dv.getUint32(o + 4, le);
    if (len < 12 || len % 4 !== 0) return fail(`block of type 0x${type.toString(16)} has invalid length ${len}`, o);
    if (len > buf.length - o) return fail(`block of type 0x${type.toString(16)} claims ${len} octets, only ${buf.length - o} left`, o);
    if (dv.getUint32(o + len - 4, le) !== len) return fail(`block of type 0x${type.toString(16)}: trailing length differs from ${len}`, o);
    const body = o + 8;
    const end = o + len - 4;
    if (type === IDB) {
      if (end - body < 8) return fail('interface description block too short', o);
      const { ticks, offset } = interfaceOptions(dv, body + 8, end, le);
      ifaces.push({ linkType: dv.getUint16(body, le), snapLen: dv.getUint32(body + 4, le), ticksPerSecond: ticks, offsetSeconds: offset });
    } else if (type === EPB || type === OBSOLETE_PB) {
      if (end - body < 20) return fail('packet block too short', o);
      const id = type === EPB ? dv.getUint32(body, le) : dv.getUint16(body, le);
      const itf = ifaces[id];
      if (itf === undefined) return fail(`packet block for interface ${id}, but the section describes ${ifaces.length}`, o);
      const ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
      const capLen = dv.getUint32(body + 12, le);
      const origLen = dv.getUint32(body + 16, le);
      if (capLen > end - body - 20) return fail(`packet block claims ${capLen} captured octets, block holds ${end - body - 20}`, o);
      frames.push({ number: frames.length + 1, iface: id, linkType: itf.linkType, timeNs: toNs(ts, itf), data: buf.subarray(body + 20, body + 20 + capLen), origLen });
    } else if (type === SPB) {
      // Interface 0, no timestamp; the captured length is the original length cut at the snap length.
      const itf = ifaces[0];
      if (itf === undefined) return fail('simple packet block in a section without an interface', o);
      if (end - body < 4) return fail('simple packet block too short', o);
      const origLen = dv.getUint32(body, le);
      const capLen = Math.min(origLen, itf.snapLen === 0 ? origLen : itf.snapLen, end - body - 4);
      frames.push({ number: frames.length + 1, iface: 0, linkType: itf.linkType, timeNs: undefined, data: buf.subarray(body + 4, body + 4 + capLen), origLen });
    }
    o += len;
  }
  return { format: 'pcapng', frames };
}
