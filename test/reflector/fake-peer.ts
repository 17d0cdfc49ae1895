// Test-side peers for the Reflector: record what is sent, optionally refuse (backpressure).
import type { BgpError } from '../../src/wire/errors.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';
import type { RibNegotiated, RibPeer } from '../../src/rib/types.js';
import { DEFAULT_CONTEXT } from '../../src/wire/types.js';
import type { Reflector } from '../../src/reflector/reflector.js';
import { parseStream, type ParsedUpdate } from '../rib/helpers.js';

export const ROUTER_ID = '10.0.0.10';
export const CLUSTER = '1.0.0.1';

export class FakePeer implements RibPeer {
  readonly spec: PeerSpec;
  sent: Buffer[] = [];
  blocked = false;
  /** The session negotiated ADD-PATH: we send path identifiers (see negAddPath). */
  addPath = false;
  resetSession?: (e: BgpError) => void;
  constructor(readonly name: string, address: string, client: boolean, family: 4 | 6 = 4) {
    this.spec = {
      name, kind: client ? 'global' : 'mesh', family, neighborAddress: address, localAddress: ROUTER_ID, port: 179,
      localAs: 64512, peerAs: 64512, routeReflectorClient: client, clusterId: CLUSTER, routerId: ROUTER_ID, sourceKeys: [],
    };
  }
  send(buf: Buffer): boolean {
    this.sent.push(Buffer.from(buf));
    return !this.blocked;
  }
  /** Messages received since the last take(). */
  take(): { type: number; update?: ParsedUpdate; raw: Buffer }[] {
    const all = parseStream(Buffer.concat(this.sent), this.addPath);
    this.sent = [];
    return all;
  }
  updates(): ParsedUpdate[] {
    return this.take().filter((m) => m.update !== undefined).map((m) => m.update as ParsedUpdate);
  }
}

export function neg(bgpId: string, opts: Partial<RibNegotiated> = {}): RibNegotiated {
  return {
    as4: true, families: [1], addPath: { rx: {}, tx: {} }, extendedMessage: false, routeRefresh: true,
    enhancedRouteRefresh: false,
    gracefulRestart: { peerRestartTime: 120, peerRestarting: false, peerNotification: false, afis: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
    peerBgpId: bgpId, recvCtx: DEFAULT_CONTEXT, sendCtx: DEFAULT_CONTEXT, ...opts,
  };
}

/** Lets the reflector's setImmediate slices run until it is idle (bounded). */
export async function settle(r: Reflector): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    await new Promise((res) => setImmediate(res));
    if (r.idle) {
      await new Promise((res) => setImmediate(res));
      return;
    }
  }
  throw new Error('reflector did not settle');
}

/** Announced and withdrawn prefixes (both plain and MP) over a list of updates. */
export function summary(us: ParsedUpdate[]): { announced: string[]; withdrawn: string[]; eor: number } {
  const announced: string[] = [];
  const withdrawn: string[] = [];
  let eor = 0;
  for (const u of us) {
    announced.push(...u.nlri, ...(u.mpReach?.nlri ?? []));
    withdrawn.push(...u.withdrawn, ...(u.mpUnreach?.withdrawn ?? []));
    if (u.nlri.length === 0 && u.withdrawn.length === 0 && u.attrs.length === 0 && u.mpReach === undefined && (u.mpUnreach === undefined || u.mpUnreach.withdrawn.length === 0)) eor++;
  }
  return { announced: announced.sort(), withdrawn: withdrawn.sort(), eor };
}
