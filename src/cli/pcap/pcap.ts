// Classic libpcap files (tcpdump -w): both byte orders, microsecond (0xa1b2c3d4) and nanosecond
// (0xa1b23c4d) magic. Pure: bytes in, frames out.
import { CaptureError, type Capture, type Frame } from './frame.js';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

/** True when the buffer starts with a classic pcap magic number, in either byte order. */
export function isPcap(buf: Uint8Array): boolean {
  if (buf.length < 4) return false;
  const dv = new DataView(buf.buffer, buf.byteOffset, 4);
  const be = dv.getUint32(0, false);
  const le = dv.getUint32(0, true);
  return be === MAGIC_US || be === MAGIC_NS || le === MAGIC_US || le === MAGIC_NS;
}

export function readPcap(buf: Uint8Array): Capture {
  const frames: Frame[] = [];
  if (buf.length < FILE_HEADER_LEN) {
    return { format: 'pcap', frames, error: new CaptureError(`pcap file header needs ${FILE_HEADER_LEN} octets, file has ${buf.length}`, 0) };
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = dv.getUint32(0, true) === MAGIC_US || dv.getUint32(0, true) === MAGIC_NS;
  const magic = dv.getUint32(0, le);
  const nano = magic === MAGIC_NS;
  // The link type is the low 28 bits; the upper bits may carry the FCS length (pcap-linktype(7)).
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  let o = FILE_HEADER_LEN;
  while (o < buf.length) {
    if (buf.length - o < RECORD_HEADER_LEN) {
      return { format: 'pcap', frames, error: new CaptureError(`truncated record header: ${buf.length - o} octets at end of file`, o) };
    }
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const inclLen = dv.getUint32(o + 8, le);
    const origLen = dv.getUint32(o + 12, le);
    if (inclLen > buf.length - o - RECORD_HEADER_LEN) {
      return { format: 'pcap', frames, error: new CaptureError(`record ${frames.length + 1} claims ${inclLen} octets, only ${buf.length - o - RECORD_HEADER_LEN} left`, o) };
    }
    const timeNs = BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nano ? 1n : 1000n);
    const start = o + RECORD_HEADER_LEN;
    frames.push({ number: frames.length + 1, iface: 0, linkType, timeNs, data: buf.subarray(start, start + inclLen), origLen });
    o = start + inclLen;
  }
  return { format: 'pcap', frames };
}
