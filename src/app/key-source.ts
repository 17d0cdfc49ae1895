// Wiring from the loaded Config to a KeySource (DATASTORE_TYPE): file, etcd v2, etcd v3, both etcd keyspaces
// merged, or Kubernetes; self-registration entries are derived here from IP/IP6 and RR_CLUSTER_ID. It lives in
// src/app so that src/datastore does not depend on the configuration (src/config imports from below it).
import type { Config } from '../config/index.js';
import { rrEntryValue, rrKey } from '../datastore/calico-mapping.js';
import type { RegistrationEntry } from '../datastore/etcdv2-source.js';
import type { KeySource } from '../datastore/source.js';
import type { SecretAccess } from '../datastore/secret-following-source.js';

// Every datastore module is imported when its DATASTORE_TYPE is chosen, not at start: etcd3 (with gRPC and
// protobufjs), the YAML parser and the Kubernetes client together cost tens of MiB of RSS that a reflector on
// another datastore never uses (issue 18; test/app/lazy-datastore.test.ts fails on an eager import).

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
export async function secretAccessFromConfig(config: Pick<Config, 'datastore'>, env: NodeJS.ProcessEnv = process.env, serviceAccountDir?: string): Promise<SecretAccess> {
  const ds = config.datastore;
  const { loadKubeConnection } = await import('../datastore/kubernetes/kubeconfig.js');
  try {
    return { connection: loadKubeConnection(ds.kubeconfig, env, serviceAccountDir), namespace: ds.secretNamespace };
  } catch (e) {
    return { unavailable: `no Kubernetes API to read Secrets from: ${e instanceof Error ? e.message : String(e)}`, namespace: ds.secretNamespace };
  }
}

export async function createKeySource(config: Pick<Config, 'identity' | 'datastore'>): Promise<KeySource> {
  const source = await createDatastoreSource(config);
  // The Kubernetes source follows the password Secrets itself; every other datastore gets them from the API.
  if (config.datastore.type === 'kubernetes') return source;
  const [{ SecretFollowingSource }, access] = await Promise.all([import('../datastore/secret-following-source.js'), secretAccessFromConfig(config)]);
  return new SecretFollowingSource(source, access);
}

async function createDatastoreSource(config: Pick<Config, 'identity' | 'datastore'>): Promise<KeySource> {
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
    case 'file': {
      const { FileKeySource } = await import('../datastore/file-source.js');
      return new FileKeySource(ds.file, {
        createIfMissing: ds.fileDefaulted ? { ip: config.identity.ip, ip6: config.identity.ip6 } : undefined,
        maxBytes: ds.fileMaxBytes,
      });
    }
    case 'etcdv2': {
      if (common === undefined) throw new Error('etcdv2 datastore without etcd settings');
      const { EtcdV2KeySource } = await import('../datastore/etcdv2-source.js');
      return new EtcdV2KeySource(common);
    }
    case 'etcdv3': {
      if (common === undefined) throw new Error('etcdv3 datastore without etcd settings');
      const { EtcdV3KeySource } = await import('../datastore/etcdv3-source.js');
      return new EtcdV3KeySource(common);
    }
    case 'etcd': {
      if (common === undefined) throw new Error('etcd datastore without etcd settings');
      const [{ EtcdV2KeySource }, { EtcdV3KeySource }, { MergedKeySource }] = await Promise.all([
        import('../datastore/etcdv2-source.js'),
        import('../datastore/etcdv3-source.js'),
        import('../datastore/merged-source.js'),
      ]);
      // v2 where the server offers it (etcd 3.4 with --enable-v2), always v3; v3 wins on a key both hold.
      return new MergedKeySource([new EtcdV2KeySource({ ...common, optional: true }), new EtcdV3KeySource(common)]);
    }
    case 'kubernetes': {
      const { kubernetesSourceFromConfig } = await import('./kubernetes-key-source.js');
      return kubernetesSourceFromConfig(config);
    }
  }
}
