// Which Secrets a key set's BGPPeers (and the default BGPConfiguration's mesh password) name: pure, and apart from
// secret-follower.ts so that a datastore without a Kubernetes API (file, etcd) reads it without loading the
// Kubernetes client.
import { MAX_RESOURCE_BYTES, safeJsonParse } from '../safe-value.js';

/** The Secret names the v3 BGPPeers (and the mesh password of BGPConfiguration default) of a key set refer to. */
export function referencedSecretNames(keys: ReadonlyMap<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of keys) {
    const isPeer = k.startsWith('/calico/resources/v3/projectcalico.org/bgppeers/');
    const isCfg = k === '/calico/resources/v3/projectcalico.org/bgpconfigurations/default';
    if (!isPeer && !isCfg) continue;
    const parsed = safeJsonParse(v, { maxBytes: MAX_RESOURCE_BYTES });
    if (!parsed.ok) continue;
    const doc = parsed.value;
    const spec = (doc as { spec?: Record<string, unknown> } | undefined)?.spec;
    const pw = isPeer ? spec?.password : spec?.nodeMeshPassword;
    const name = (pw as { secretKeyRef?: { name?: unknown } } | undefined)?.secretKeyRef?.name;
    if (typeof name === 'string' && name.trim() !== '') out.add(name.trim());
  }
  return out;
}
