// Wiring from the loaded Config to a KeySource (DATASTORE_TYPE): file, etcd v2, etcd v3, both etcd keyspaces
// merged, or Kubernetes; self-registration entries are derived here from IP/IP6 and RR_CLUSTER_ID. It lives in
// src/app so that src/datastore does not depend on the configuration (src/config imports from below it).
import type { Config } from '../config/index.js';
import { rrEntryValue, rrKey } from '../datastore/calico-mapping.js';
import { EtcdV2KeySource, type RegistrationEntry } from '../datastore/etcdv2-source.js';
import { EtcdV3KeySource } from '../datastore/etcdv3-source.js';
import { FileKeySource } from '../datastore/file-source.js';
import { MergedKeySource } from '../datastore/merged-source.js';
import type { KeySource } from '../datastore/source.js';
import { createKubernetesSource, type KubernetesKeySource, type KubernetesSourceOptions } from '../datastore/kubernetes/kubernetes-source.js';
import { loadKubeConnection } from '../datastore/kubernetes/kubeconfig.js';
import { SecretFollowingSource, type SecretAccess } from '../datastore/secret-following-source.js';


export interface KeySourceFactories {
  /** The kubernetes datastore (issue 9) plugs in here. */
  kubernetes?: (config: Pick<Config, 'identity' | 'datastore'>) => KeySource;
}

/** Our own rr_v4 (and rr_v6) entries as the seed's README writes them, for self-registration. */
export function registrationEntries(config: Pick<Config, 'identity' | 'datastore'>): RegistrationEntry[] {
  const { ip, ip6 } = config.identity;
  const clusterId = config.datastore.register?.clusterId;
  const entries = [{ key: rrKey(4, ip), value: rrEntryValue(ip, clusterId) }];
  if (ip6 !== undefined) entries.push({ key: rrKey(6, ip6), value: rrEntryValue(ip6, clusterId) });
  return entries;
}

/**
 * How the etcd and file datastores read BGPPeer password Secrets: as calico-node does in etcd mode, KUBECONFIG,
 * else the in-cluster service account; when neither works, the reason (such sessions are then held back).
 */
export function secretAccessFromConfig(config: Pick<Config, 'datastore'>, env: NodeJS.ProcessEnv = process.env, serviceAccountDir?: string): SecretAccess {
  const ds = config.datastore;
  try {
    return { connection: loadKubeConnection(ds.kubeconfig, env, serviceAccountDir), namespace: ds.secretNamespace };
  } catch (e) {
    return { unavailable: `no Kubernetes API to read Secrets from: ${e instanceof Error ? e.message : String(e)}`, namespace: ds.secretNamespace };
  }
}

export function createKeySource(config: Pick<Config, 'identity' | 'datastore'>, factories: KeySourceFactories = {}): KeySource {
  const source = createDatastoreSource(config, factories);
  // The Kubernetes source follows the password Secrets itself; every other datastore gets them from the API.
  return config.datastore.type === 'kubernetes' ? source : new SecretFollowingSource(source, secretAccessFromConfig(config));
}

function createDatastoreSource(config: Pick<Config, 'identity' | 'datastore'>, factories: KeySourceFactories): KeySource {
  const ds = config.datastore;
  const registration =
    ds.register !== undefined ? { entries: registrationEntries(config), ttlSeconds: ds.register.ttlSeconds } : undefined;
  const etcd = ds.etcd;
  const common =
    etcd !== undefined
      ? {
          endpoints: etcd.endpoints,
          tls: { caCertFile: etcd.caCertFile, certFile: etcd.certFile, keyFile: etcd.keyFile },
          auth: etcd.username !== undefined && etcd.password !== undefined ? { username: etcd.username, password: etcd.password } : undefined,
          registration,
        }
      : undefined;
  switch (ds.type) {
    case 'file':
      return new FileKeySource(ds.file, {
        createIfMissing: ds.fileDefaulted ? { ip: config.identity.ip, ip6: config.identity.ip6 } : undefined,
        maxBytes: ds.fileMaxBytes,
      });
    case 'etcdv2':
      if (common === undefined) throw new Error('etcdv2 datastore without etcd settings');
      return new EtcdV2KeySource(common);
    case 'etcdv3':
      if (common === undefined) throw new Error('etcdv3 datastore without etcd settings');
      return new EtcdV3KeySource(common);
    case 'etcd':
      if (common === undefined) throw new Error('etcd datastore without etcd settings');
      // v2 where the server offers it (etcd 3.4 with --enable-v2), always v3; v3 wins on a key both hold.
      return new MergedKeySource([new EtcdV2KeySource({ ...common, optional: true }), new EtcdV3KeySource(common)]);
    case 'kubernetes':
      if (factories.kubernetes === undefined) throw new Error('the kubernetes datastore is not available in this build');
      return factories.kubernetes(config);
  }
}

/**
 * The source for a loaded Config (DATASTORE_TYPE=kubernetes): KUBECONFIG or in-cluster, IP/IP6, and the
 * self-registration switch (RR_REGISTER / RR_CLUSTER_ID) with its TTL as the Lease duration.
 */
export function kubernetesSourceFromConfig(config: Pick<Config, 'identity' | 'datastore'>, extra: Partial<KubernetesSourceOptions> = {}): KubernetesKeySource {
  const { identity, datastore: ds } = config;
  return createKubernetesSource({
    kubeconfigPath: ds.kubeconfig,
    register: ds.register !== undefined,
    ip: identity.ip,
    ip6: identity.ip6,
    clusterId: ds.register?.clusterId,
    leaseDurationSeconds: ds.register?.ttlSeconds,
    secretNamespace: ds.secretNamespace,
    ...extra,
  });
}
