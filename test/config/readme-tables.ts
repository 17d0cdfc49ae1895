// Reads the README's configuration tables (| Variable | Meaning | Default |): the operator's documentation,
// the oracle the defaults-readme and daemon-cli tests hold defaults.ts and --help to.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ReadmeRow {
  /** The variables named in the first cell (one row may name several). */
  names: string[];
  /** The Default cell as written (Markdown). */
  default: string;
  line: number;
}

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** Splits a table row on unescaped pipes outside code spans. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let code = false;
  for (const ch of line.trim().replace(/^\|/, '').replace(/\|$/, '')) {
    if (ch === '`') code = !code;
    if (ch === '|' && !code) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

export function readmeVariableRows(): ReadmeRow[] {
  const lines = readFileSync(README, 'utf8').split('\n');
  const rows: ReadmeRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = cells(lines[i] ?? '');
    if (!(lines[i] ?? '').startsWith('|') || head[0] !== 'Variable' || head[2] !== 'Default') continue;
    for (let j = i + 2; j < lines.length && (lines[j] ?? '').startsWith('|'); j++) {
      const c = cells(lines[j] ?? '');
      const names = [...(c[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? '');
      rows.push({ names, default: c[2] ?? '', line: j + 1 });
    }
  }
  return rows;
}

/** The default of each variable of a row: "a, b" gives one per name; a single value applies to every name. */
export function perVariableDefaults(row: ReadmeRow): Map<string, string> | undefined {
  const parts = row.names.length > 1 ? row.default.split(', ') : [row.default];
  if (parts.length === 1) return new Map(row.names.map((n) => [n, row.default]));
  if (parts.length !== row.names.length) return undefined;
  return new Map(row.names.map((n, i) => [n, parts[i] ?? '']));
}
