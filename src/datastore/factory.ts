// Chooses and builds the KeySource for a Config (DATASTORE_TYPE): file, etcd v2, etcd v3, or both etcd keyspaces
// merged; self-registration entries are derived here from IP/IP6 and RR_CLUSTER_ID.
import type { DatastoreSetup } from './settings.js';
import { rrEntryValue, rrKey } from './calico-mapping.js';
import { EtcdV2KeySource, type RegistrationEntry } from './etcdv2-source.js';
import { EtcdV3KeySource } from './etcdv3-source.js';
import { FileKeySource } from './file-source.js';
import { MergedKeySource } from './merged-source.js';
import type { KeySource } from './source.js';

export interface KeySourceFactories {
  /** The kubernetes datastore (issue 9) plugs in here. */
  kubernetes?: (config: DatastoreSetup) => KeySource;
}

/** Our own rr_v4 (and rr_v6) entries as the seed's README writes them, for self-registration. */
export function registrationEntries(config: { identity: DatastoreSetup['identity']; datastore: Pick<DatastoreSetup['datastore'], 'register'> }): RegistrationEntry[] {
  const { ip, ip6 } = config.identity;
  const clusterId = config.datastore.register?.clusterId;
  const entries = [{ key: rrKey(4, ip), value: rrEntryValue(ip, clusterId) }];
  if (ip6 !== undefined) entries.push({ key: rrKey(6, ip6), value: rrEntryValue(ip6, clusterId) });
  return entries;
}

/** `config`: the loaded Config (or anything of its shape: identity and datastore settings). */
export function createKeySource(config: DatastoreSetup, factories: KeySourceFactories = {}): KeySource {
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
