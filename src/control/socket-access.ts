// Who may use the control sockets (BIRD's -u/-g and its fixed 0660); SOCKET_OWNER, SOCKET_GROUP and SOCKET_MODE
// are read with the rest of the configuration (src/config/observability.ts).
// A bird_exporter sidecar runs under its own uid, so the sockets must carry a group it is in (the pod's fsGroup)
// and a mode that lets that group connect (connecting to a unix socket needs write permission on it).
// Numeric ids only: the image has no user database for the sidecar's group, and a name would silently
// resolve to nothing there.

export interface SocketAccess {
  /** File mode of bird.ctl / bird6.ctl (default 0o660, as BIRD creates them). */
  mode: number;
  /** chown owner (only root may change it); undefined: the process's own uid. */
  uid?: number;
  /** chown group (the process must be in it, e.g. the pod's fsGroup); undefined: as created. */
  gid?: number;
}

export function describeSocketAccess(a: SocketAccess): string {
  return `mode ${a.mode.toString(8).padStart(4, '0')}, owner ${a.uid ?? 'own uid'}, group ${a.gid ?? 'as created'}`;
}
