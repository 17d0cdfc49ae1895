// Raw BGP clients for the hardening tests, on test/session/speaker.ts and our codec: connect, OPEN with
// MP IPv4 unicast + 4-octet AS, answer KEEPALIVEs, announce or withdraw prefixes, send End-of-RIB.
import {
  AFI_IPV4, AsPathSegmentType, AttrType, ATTR_FLAG_OPTIONAL, ATTR_FLAG_TRANSITIVE, buildEndOfRib, buildUpdates, DEFAULT_CONTEXT,
  decodeMessage, encodeAttributes, MessageType, type PathAttribute,
} from '../../src/wire/index.js';
import { Framer } from '../../src/session/framer.js';
import { Speaker } from '../session/speaker.js';
import { AS } from './lab.js';

export async function rawPeer(local: string, rr: string, holdTime = 90, establish = true): Promise<Speaker> {
  const sp = await Speaker.connect(local, rr, 179, {
    as: AS, bgpId: local, holdTime, autoKeepalive: true,
    capabilities: [{ kind: 'multiprotocol', code: 1, afi: AFI_IPV4, safi: 1 }, { kind: 'as4', code: 65, as: AS }],
  });
  if (establish) await sp.waitFor(() => sp.established || sp.closed, 10_000, `session of ${local} Established`);
  return sp;
}

export function attrs(nextHop: string, asPath: number[] = [], med?: number): Uint8Array {
  const a: PathAttribute[] = [
    { type: AttrType.ORIGIN, flags: ATTR_FLAG_TRANSITIVE, origin: 0 },
    { type: AttrType.AS_PATH, flags: ATTR_FLAG_TRANSITIVE, segments: asPath.length > 0 ? [{ type: AsPathSegmentType.AS_SEQUENCE, asns: asPath }] : [] },
    { type: AttrType.NEXT_HOP, flags: ATTR_FLAG_TRANSITIVE, nextHop },
    { type: AttrType.LOCAL_PREF, flags: ATTR_FLAG_TRANSITIVE, localPref: 100 },
  ];
  if (med !== undefined) a.push({ type: AttrType.MULTI_EXIT_DISC, flags: ATTR_FLAG_OPTIONAL, med });
  return encodeAttributes(a, DEFAULT_CONTEXT);
}

/** /24s from base (uint32) upwards, count of them. */
export function prefixes(base: number, count: number): { addrs: number[]; lens: number[] } {
  return { addrs: Array.from({ length: count }, (_, i) => (base + i * 256) >>> 0), lens: Array.from({ length: count }, () => 24) };
}

export function announce(sp: Speaker, nextHop: string, base: number, count: number, asPath: number[] = []): void {
  for (const u of buildUpdates({ attrs: attrs(nextHop, asPath), afi: AFI_IPV4, prefixes: prefixes(base, count), ctx: DEFAULT_CONTEXT })) sp.write(u);
}

/** One UPDATE per prefix, each with its own MED: the most bytes per prefix a reflector has to send on. */
export function announceDistinct(sp: Speaker, nextHop: string, base: number, count: number, medBase = 0): void {
  const chunks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const [u] = buildUpdates({ attrs: attrs(nextHop, [], medBase + i), afi: AFI_IPV4, prefixes: { addrs: [(base + i * 256) >>> 0], lens: [24] }, ctx: DEFAULT_CONTEXT });
    chunks.push(u!);
  }
  sp.write(Buffer.concat(chunks));
}

export function withdraw(sp: Speaker, base: number, count: number): void {
  for (const u of buildUpdates({ afi: AFI_IPV4, withdrawals: prefixes(base, count), ctx: DEFAULT_CONTEXT })) sp.write(u);
}

export function endOfRib(sp: Speaker): void {
  sp.write(buildEndOfRib(AFI_IPV4));
}

export const ip4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** A raw client that keeps the reflector's view: prefixes announced minus withdrawn, and End-of-RIB seen. */
export class TableClient {
  readonly table = new Set<string>();
  eor = false;
  updates = 0;
  constructor(readonly sp: Speaker) {
    sp.socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private framer = new Framer(65535);

  private onData(chunk: Buffer): void {
    this.framer.push(chunk);
    for (;;) {
      let msg: Buffer | null;
      try {
        msg = this.framer.next();
      } catch {
        return;
      }
      if (msg === null) return;
      if (msg[18] !== MessageType.UPDATE) continue;
      this.updates++;
      const m = decodeMessage(msg, DEFAULT_CONTEXT);
      if (m.type !== MessageType.UPDATE) continue;
      if (m.withdrawn.length === 0 && m.nlri.length === 0 && m.attributes.length === 0) this.eor = true;
      for (const p of m.withdrawn) this.table.delete(`${[...p.addr].join(".")}/${p.len}`);
      for (const p of m.nlri) this.table.add(`${[...p.addr].join(".")}/${p.len}`);
    }
  }
}
