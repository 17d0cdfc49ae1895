// Export policy: what an update group's members get for a best route, and the cache that makes it cheap.
//
// Per (input attribute set, source peer, group): RFC 4456 §6 who may receive it and the CLUSTER_LIST check
// toward clients (policy.ts), the reflection rewrite (ORIGINATOR_ID, CLUSTER_LIST, unknown attributes;
// src/wire/reflect-rewrite.ts) and the 2-octet AS form for OLD speakers; eBGP-learnt routes are not reflected.
// The result is interned and cached on the input entry under peerKey(group id, source index)
// (src/rib/peer-key.ts), so a route exported to N groups is rewritten at most N times, whatever the members.
import { attributeBlockToAs2 } from '../wire/attribute-block.js';
import { reflectAttributes } from '../wire/reflect-rewrite.js';
import type { AttrEntry, AttrTable } from '../rib/attr-intern.js';
import { ownerOfKey, peerKey, peerOfKey } from '../rib/peer-key.js';
import type { UpdateGroup } from '../rib/update-group.js';
import type { Exporter } from '../rib/update-group-adv.js';
import { clusterIdsToPrepend, exportAllowedRaw } from './policy.js';
import type { PeerTable } from './peers.js';

export class ExportPolicy {
  private readonly exporters = new Map<UpdateGroup, Exporter>();
  /** Bumped whenever cached export results are forgotten (invalidates the exporters' one-entry memo). */
  private gen = 0;

  constructor(private readonly attrs: AttrTable, private readonly peers: PeerTable) {}

  /** The exporter of a group (made on first use). */
  of(g: UpdateGroup): Exporter {
    let e = this.exporters.get(g);
    if (e === undefined) {
      e = this.make(g);
      this.exporters.set(g, e);
    }
    return e;
  }

  /** The group is gone: its exporter and every result cached for it. */
  dropGroup(g: UpdateGroup): void {
    this.exporters.delete(g);
    this.gen++;
    this.attrs.forgetExports((k) => ownerOfKey(k) === g.id);
  }

  /** Results cached for routes from this peer embed its identity (ORIGINATOR_ID, cluster IDs): forget them. */
  forgetSource(idx: number): void {
    this.gen++;
    this.attrs.forgetExports((k) => peerOfKey(k) === idx);
  }

  private make(g: UpdateGroup): Exporter {
    const groupId = g.id;
    const to = { isClient: g.sig.isClient, clusterId: g.sig.clusterId };
    const as4 = g.sig.as4;
    // Runs of prefixes share attributes and source: a one-entry memo in front of the per-entry cache.
    let lastAttr: AttrEntry | null = null;
    let lastSrc = -1;
    let lastOut: AttrEntry | null = null;
    let gen = this.gen;
    return (attr: AttrEntry, src: number): AttrEntry | null => {
      if (attr === lastAttr && src === lastSrc && gen === this.gen && attr.refs > 0) return lastOut;
      gen = this.gen;
      const k = peerKey(groupId, src);
      let out = attr.getExport(k);
      if (out === undefined) {
        out = null;
        const from = this.peers.at(src);
        if (!from.ebgp && exportAllowedRaw(attr.attrs, from, to)) {
          let bytes: Uint8Array = reflectAttributes(attr.attrs, from.bgpId, clusterIdsToPrepend(from, to));
          if (!as4) bytes = attributeBlockToAs2(bytes);
          out = this.attrs.intern(bytes, 0, bytes.length, attr.nextHop, 0, attr.nextHop?.length ?? 0);
        }
        attr.setExport(k, out);
      }
      lastAttr = attr;
      lastSrc = src;
      lastOut = out;
      return out;
    };
  }
}
