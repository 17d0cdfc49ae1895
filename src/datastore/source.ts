// The one interface every datastore (file, etcd v2, etcd v3, kubernetes) implements:
// a full snapshot of the /calico/bgp/v1/... keys, then live changes. The mapping to peers is elsewhere (pure).

/** Keys are full etcd paths such as "/calico/bgp/v1/global/as_num"; values are the raw strings stored there. */
export type KeySnapshot = ReadonlyMap<string, string>;

export interface KeySourceEvents {
  /** The complete current key set. Sent first, and again after any resync (re-list), replacing all earlier state. */
  snapshot(keys: KeySnapshot): void;
  /** One key written (value) or deleted (value === undefined) after the last snapshot. */
  change(key: string, value: string | undefined): void;
  /** The source lost its backend or met a value it cannot use; it keeps retrying by itself. */
  problem(message: string, detail?: Record<string, unknown>): void;
}

export interface KeySource {
  /** Human-readable name for logs, e.g. "file:/var/lib/rr/datastore.json" or "etcdv3:http://127.0.0.1:2379". */
  readonly name: string;
  start(events: KeySourceEvents): Promise<void>;
  stop(): Promise<void>;
  /**
   * Self-registration only (RR_REGISTER / RR_CLUSTER_ID): remove this reflector's own rr_v4/rr_v6 entries now,
   * so the other reflectors drop it from their mesh; call on SIGTERM before stop(). Absent or a no-op otherwise.
   */
  deregister?(): Promise<void>;
}
