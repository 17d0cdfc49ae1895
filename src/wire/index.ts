// Public face of the BGP wire codec: re-exports every module of src/wire (pure functions, no I/O).
// Import from here: `import { decodeMessage, scanUpdate, BgpError } from '../wire/index.js'`.
export * from './types.js';
export * from './errors.js';
export * from './header.js';
export * from './capabilities.js';
export * from './open.js';
export * from './notification.js';
export * from './nlri.js';
export * from './as-path.js';
export {
  ATTRIBUTES, attributeName, encodeAttribute, checkMpReach, checkMpUnreach, mpNextHopLengthOk,
  type AttrDescriptor, type AttrProblem,
} from './attributes.js';
export * from './attribute-block.js';
export { scanUpdate, ScannedUpdate, clusterListIncludes, setPartialOnUnknownTransitive, addPathFor, isPrefixFamily } from './update-scan.js';
export * from './update.js';
export * from './update-build.js';
export * from './message.js';
export * from './json.js';
export { ipv4ToString, ipv4ToUint32, uint32ToIpv4, hex } from './util.js';
