// Where Calico v3 resources (Node, BGPPeer, BGPConfiguration) live in etcd v3, and in the key sets of every
// datastore (the Kubernetes source publishes its objects under the same keys); calico-sessions.ts reads them.

export const CALICO_V3_PREFIX = '/calico/resources/v3/projectcalico.org';
/** The resource folders the reflector reads (and watches) in etcd v3. */
export const CALICO_V3_KINDS = ['nodes', 'bgppeers', 'bgpconfigurations'] as const;
export type CalicoV3Kind = (typeof CALICO_V3_KINDS)[number];

/** Which kind and name a v3 etcd key names, or undefined for keys the reflector does not read. */
export function parseV3Key(key: string): { kind: CalicoV3Kind; name: string } | undefined {
  if (!key.startsWith(`${CALICO_V3_PREFIX}/`)) return undefined;
  const [kind, name, ...rest] = key.slice(CALICO_V3_PREFIX.length + 1).split('/');
  if (rest.length > 0 || name === undefined || name === '') return undefined;
  if (kind === 'nodes' || kind === 'bgppeers' || kind === 'bgpconfigurations') return { kind, name };
  return undefined;
}
