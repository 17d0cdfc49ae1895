// What the datastores need to be built: the parsed DATASTORE_TYPE, ETCD_*, KUBECONFIG, NAMESPACE,
// DATASTORE_FILE* and RR_REGISTER* settings, plus this reflector's addresses. The datastore owns these types;
// src/config/datastore.ts fills them from the environment (config imports datastore, never the other way).

/** `etcd` = both keyspaces merged (v2 where the server offers it, and v3): the seed's ETCD_ENDPOINTS-only start. */
export type DatastoreType = 'etcd' | 'etcdv2' | 'etcdv3' | 'kubernetes' | 'file';

export const DATASTORE_TYPES: readonly DatastoreType[] = ['etcd', 'etcdv2', 'etcdv3', 'kubernetes', 'file'];

export interface EtcdConfig {
  /** Normalised URLs without trailing slash, e.g. "https://10.0.0.1:2379". At least one. */
  endpoints: string[];
  /** Which variable the endpoints came from (for log lines). */
  endpointsFrom: string;
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

export interface RegistrationConfig {
  /** Cluster ID written into our own rr_v4/rr_v6 entry (dotted quad), or undefined for none (router ID used). */
  clusterId: string | undefined;
  /** etcd v3 lease TTL / etcd v2 key TTL in seconds. */
  ttlSeconds: number;
}

export interface DatastoreSettings {
  type: DatastoreType;
  /** True when neither DATASTORE_TYPE nor any etcd endpoint was set (embedded file datastore). */
  embeddedDefault: boolean;
  /** Present for etcd, etcdv2, etcdv3. */
  etcd: EtcdConfig | undefined;
  /** Path from KUBECONFIG; undefined = in-cluster service account. */
  kubeconfig: string | undefined;
  /**
   * NAMESPACE (calico/node's name for it): where the Secrets named by BGPPeer spec.password.secretKeyRef are
   * read, with the kubernetes datastore. Default kube-system, as calico/node.
   */
  secretNamespace: string;
  /** Absolute path of the file datastore (meaningful for type 'file'). */
  file: string;
  /** True when DATASTORE_FILE was not set and the default path was chosen (the file is then created if missing). */
  fileDefaulted: boolean;
  /** DATASTORE_FILE_MAX_BYTES: a larger datastore file is refused (the last good configuration stays). */
  fileMaxBytes: number;
  /** Self-registration (RR_REGISTER=true or RR_CLUSTER_ID set); undefined = off. */
  register: RegistrationConfig | undefined;
}

/** This reflector's own addresses, as the datastores need them (registration entries, the created example file). */
export interface ReflectorAddresses {
  /** IPv4 address, canonical: router ID and name of our rr_v4 entry. */
  ip: string;
  /** IPv6 address, canonical, or undefined when IPv6 is off. */
  ip6: string | undefined;
}

/** What building a datastore needs; the whole loaded Config has this shape too. */
export interface DatastoreSetup {
  identity: ReflectorAddresses;
  datastore: DatastoreSettings;
}
