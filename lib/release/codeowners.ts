/**
 * Path patterns the way GitHub reads CODEOWNERS (gitignore style), and the CODEOWNERS file itself.
 *
 * - `*` matches within one path segment, `?` one character of it, `**` any number of segments.
 * - A pattern that starts with `/` or has a `/` before its end is anchored at the repository root;
 *   one without (`*.js`, `logs`) matches at any depth.
 * - A pattern ending in `/` matches everything under that directory; one whose last segment has no
 *   wildcard (`/scripts`, `**\/logs`) matches that file or everything under that directory;
 *   `docs/*` matches the files directly in `docs/` only.
 * - In CODEOWNERS the last matching line wins; a line with no owners makes its paths unowned.
 *
 * The same matcher reads the security-sensitive and architecture paths of `cdk.json`.
 * https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';

/** Where GitHub looks for the file, in the order it looks. */
export const CODEOWNERS_LOCATIONS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

export interface CodeOwnersRule {
  pattern: string;
  /** `@login`, `@org/team` or an e-mail address, as written. */
  owners: string[];
  line: number;
}

function escapeRegex(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

/** Compiles one gitignore-style pattern to a regular expression over repository-relative paths. */
export function patternToRegExp(pattern: string): RegExp {
  let p = pattern.trim();
  const directoryOnly = p.endsWith('/');
  if (directoryOnly) p = p.replace(/\/+$/, '');
  const anchored = p.startsWith('/') || p.includes('/');
  p = p.replace(/^\/+/, '');
  const segments = p.split('/');
  const last = segments[segments.length - 1];
  const body = segments
    .map((seg, i) => {
      if (seg === '**') return i === segments.length - 1 ? '.*' : '(?:[^/]+/)*';
      const re = seg
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : escapeRegex(c)))
        .join('');
      return i === segments.length - 1 ? re : `${re}/`;
    })
    .join('');
  const prefix = anchored ? '^' : '^(?:.*/)?';
  // A directory pattern, or a last segment without wildcards, also covers everything beneath it.
  const beneath = directoryOnly ? '/.*' : last === '**' || /[*?]/.test(last) ? '' : '(?:/.*)?';
  return new RegExp(`${prefix}${body}${beneath}$`);
}

/** Whether a repository-relative path (no leading slash) matches the pattern. */
export function matchesPattern(path: string, pattern: string): boolean {
  return patternToRegExp(pattern).test(path.replace(/^\/+/, ''));
}

/** Whether the path matches any of the patterns. */
export function matchesAny(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesPattern(path, p));
}

/** Parses CODEOWNERS text: comments and blank lines skipped, `\#` and `\ ` escapes honoured. */
export function parseCodeOwners(text: string): CodeOwnersRule[] {
  const rules: CodeOwnersRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/(^|[^\\])#.*$/, '$1').trim();
    if (!line) return;
    const parts = line.match(/(?:\\.|[^\s])+/g) ?? [];
    const [pattern, ...owners] = parts.map((s) => s.replace(/\\(.)/g, '$1'));
    rules.push({ pattern, owners, line: index + 1 });
  });
  return rules;
}

/** The owners of a path: those of the last matching rule (empty when none matches or it names none). */
export function ownersOf(path: string, rules: readonly CodeOwnersRule[]): { owners: string[]; rule?: CodeOwnersRule } {
  for (let i = rules.length - 1; i >= 0; i--) {
    if (matchesPattern(path, rules[i].pattern)) return { owners: rules[i].owners, rule: rules[i] };
  }
  return { owners: [] };
}

/** Reads the CODEOWNERS file GitHub would use from a checkout, or undefined when there is none. */
export function readCodeOwners(root: string): { path: string; rules: CodeOwnersRule[] } | undefined {
  for (const location of CODEOWNERS_LOCATIONS) {
    const file = join(root, location);
    if (existsSync(file)) return { path: location, rules: parseCodeOwners(readFileSync(file, 'utf8')) };
  }
  return undefined;
}
