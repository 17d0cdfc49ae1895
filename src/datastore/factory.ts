// Chooses and builds the KeySource for a Config (DATASTORE_TYPE): file, etcd v2, etcd v3, or both etcd keyspaces
// merged; self-registration entries are derived here from IP/IP6 and RR_CLUSTER_ID.
import type { Config } from '../config.js';
import { rrEntryValue, rrKey } from './calico-mapping.js';
import { EtcdV2KeySource, type RegistrationEntry } from './etcdv2-source.js';
import { EtcdV3KeySource } from './etcdv3-source.js';
import { FileKeySource } from './file-source.js';
import { MergedKeySource } from './merged-source.js';
import type { KeySource } from './source.js';
import { loadKubeConnection } from './kubernetes/kubeconfig.js';
import { SecretFollowingSource, type SecretAccess } from './secret-following-source.js';

export interface KeySourceFactories {
  /** The kubernetes datastore (issue 9) plugs in here. */
  kubernetes?: (config: Config) => KeySource;
}

/** Our own rr_v4 (and rr_v6) entries as the seed's README writes them, for self-registration. */
export function registrationEntries(config: Pick<Config, 'ip' | 'ip6' | 'register'>): RegistrationEntry[] {
  const clusterId = config.register?.clusterId;
  const entries = [{ key: rrKey(4, config.ip), value: rrEntryValue(config.ip, clusterId) }];
  if (config.ip6 !== undefined) entries.push({ key: rrKey(6, config.ip6), value: rrEntryValue(config.ip6, clusterId) });
  return entries;
}

/**
 * How the etcd and file datastores read BGPPeer password Secrets: as calico-node does, KUBECONFIG, else the
 * in-cluster service account; when neither works, the reason (such peers are then held back).
 */
export function secretAccessFromConfig(config: Pick<Config, 'kubeconfig' | 'secretNamespace'>, env: NodeJS.ProcessEnv = process.env, serviceAccountDir?: string): SecretAccess {
  try {
    return { connection: loadKubeConnection(config.kubeconfig, env, serviceAccountDir), namespace: config.secretNamespace };
  } catch (e) {
    return { unavailable: `no Kubernetes API to read Secrets from: ${e instanceof Error ? e.message : String(e)}`, namespace: config.secretNamespace };
  }
}

export function createKeySource(config: Config, factories: KeySourceFactories = {}): KeySource {
  if (config.datastoreType === 'kubernetes') return createDatastoreSource(config, factories);
  // Every other datastore gets the BGPPeer password Secrets from the Kubernetes API (the Kubernetes source follows them itself).
  return new SecretFollowingSource(createDatastoreSource(config, factories), secretAccessFromConfig(config));
}

function createDatastoreSource(config: Config, factories: KeySourceFactories): KeySource {
  const registration =
    config.register !== undefined ? { entries: registrationEntries(config), ttlSeconds: config.register.ttlSeconds } : undefined;
  const etcd = config.etcd;
  const common =
    etcd !== undefined
      ? {
          endpoints: etcd.endpoints,
          tls: { caCertFile: etcd.caCertFile, certFile: etcd.certFile, keyFile: etcd.keyFile },
          auth: etcd.username !== undefined && etcd.password !== undefined ? { username: etcd.username, password: etcd.password } : undefined,
          registration,
        }
      : undefined;
  switch (config.datastoreType) {
    case 'file':
      return new FileKeySource(config.datastoreFile, {
        createIfMissing: config.datastoreFileDefaulted ? { ip: config.ip, ip6: config.ip6 } : undefined,
        maxBytes: config.datastoreFileMaxBytes,
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
