// The record every capture-file reader yields, and the error it throws for a file it cannot read on.

/** One captured packet: its link-layer bytes and where and when it was seen. */
export interface Frame {
  /** 1-based position in the file, as tshark's frame.number. */
  number: number;
  /** Interface index within its pcapng section (0 for classic pcap). */
  iface: number;
  /** The link-layer header type (LINKTYPE_* of the tcpdump.org registry). */
  linkType: number;
  /** Capture time in nanoseconds since the epoch; undefined when the block carries none (pcapng SPB). */
  timeNs: bigint | undefined;
  /** The captured bytes (may be shorter than origLen when the snap length cut the packet). */
  data: Uint8Array;
  origLen: number;
}

/** A capture file that cannot be read on from `offset`; the frames before it stay valid. */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** The result of reading a whole file: every frame read, and the error that stopped reading, if any. */
export interface Capture {
  format: 'pcap' | 'pcapng';
  frames: Frame[];
  error?: CaptureError;
}

/** "1700000000.123456789" from nanoseconds since the epoch (the form of tshark's frame.time_epoch). */
export function epochText(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
}
