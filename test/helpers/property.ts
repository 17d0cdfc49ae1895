// Property tests run with a fixed seed per file, so a run of the suite is the same on every machine and every
// day: a failure in CI reproduces locally from the same commit. fast-check's failure message carries the seed and
// the shrunk path; a found counterexample becomes a named regression test beside the property. To explore further,
// change the tag's suffix locally (a new seed), never the clock.
import fc from 'fast-check';

/** FNV-1a of the tag: a stable 32-bit seed. */
export function seedOf(tag: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) {
    h ^= tag.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h | 0;
}

/** Makes every fc.assert in the calling file use the seed derived from `tag` (e.g. the file's repo path). */
export function fixedSeeds(tag: string): void {
  fc.configureGlobal({ seed: seedOf(tag) });
}
