// The BGP wire codec as one import for tests, benches and tools (pure functions, no I/O): it re-exports the
// modules of src/wire. Code in src/ imports the one module it needs instead (`../wire/update-scan.js`), so each
// file's dependencies stay visible and loading one piece of the codec does not load all of it.
export * from './types.js';
export * from './errors.js';
export * from './negotiated.js';
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
export { hex } from './util.js';
