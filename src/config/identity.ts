// Identity and addresses: IP (router ID, IPv4 source/listen address, name of our rr_v4 entry), IP6, BGP_PORT.
import { DEFAULTS } from './defaults.js';
import type { EnvReader } from './fields.js';

export interface IdentityConfig {
  /** IPv4 address, canonical: router ID, IPv4 source/listen address, name of our rr_v4 entry. */
  ip: string;
  /** IPv6 address, canonical (compressed lowercase), or undefined when IPv6 is off. */
  ip6: string | undefined;
  /** True when IP was not given and the embedded default's 127.0.0.1 was chosen. */
  ipDefaulted: boolean;
  /** TCP port we listen on and connect to. */
  bgpPort: number;
}

/** `embeddedDefault`: no datastore was chosen, so IP may default (a real deployment must name its address). */
export function readIdentity(r: EnvReader, embeddedDefault: boolean): IdentityConfig {
  let ip: string = DEFAULTS.IP.value;
  let ipDefaulted = false;
  if (r.get('IP') === undefined) {
    if (embeddedDefault) {
      ipDefaulted = true;
      r.notes.push(`IP not set: using ${ip} (embedded file datastore only; set IP for real use)`);
    } else {
      r.bad('IP', 'required: the IPv4 address of this reflector (router ID, source address, name of its rr_v4 entry)');
    }
  } else {
    ip = r.address('IP', 4) ?? ip;
  }
  const ip6 = r.address('IP6', 6);
  const bgpPort = r.port('BGP_PORT') ?? DEFAULTS.BGP_PORT.value;
  return { ip, ipDefaulted, ip6, bgpPort };
}
