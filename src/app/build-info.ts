// What runs: the package name and version and the Node.js version, for the build_info metric, `show status` and
// the start line. One place so the three always agree.
import { packageVersion } from '../cli/version.js';

export interface BuildInfo {
  /** package.json's version ("unknown" when it cannot be read). */
  version: string;
  /** process.version, e.g. "v24.11.1". */
  nodeVersion: string;
}

/** The name `show status` prints before the version (package.json's name, written once here). */
export const SOFTWARE_NAME = 'calico-ts-route-reflector';

export function buildInfo(): BuildInfo {
  return { version: packageVersion(), nodeVersion: process.version };
}

/** "calico-ts-route-reflector 0.1.0": the bracketed part of `show status`' first line. */
export function softwareText(info: BuildInfo): string {
  return `${SOFTWARE_NAME} ${info.version}`;
}
