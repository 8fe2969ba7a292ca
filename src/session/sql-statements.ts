/**
 * Splits a simple-protocol query string into its statements and says what each one does to the
 * transaction, for `replay --rollback`. The split respects '…' (with ''), E'…' (with \'), "…",
 * $tag$…$tag$, -- comments and nested /* … *\/ comments, as Postgres' scanner does. It does not have
 * to be perfect to be safe: each piece is then run with the extended protocol, where the server itself
 * refuses a Parse holding two statements, and a single statement's kind is fixed by its first keywords.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let index = 0;
  const length = sql.length;
  while (index < length) {
    const char = sql[index]!;
    const next = sql[index + 1];
    if (char === '-' && next === '-') {
      index = lineCommentEnd(sql, index);
    } else if (char === '/' && next === '*') {
      let depth = 1;
      index += 2;
      while (index < length && depth > 0) {
        if (sql[index] === '/' && sql[index + 1] === '*') {
          depth += 1;
          index += 2;
        } else if (sql[index] === '*' && sql[index + 1] === '/') {
          depth -= 1;
          index += 2;
        } else index += 1;
      }
    } else if (char === "'" || char === '"') {
      const escapes = char === "'" && /[eE]/.test(sql[index - 1] ?? '') && !/\w/.test(sql[index - 2] ?? '');
      index += 1;
      while (index < length) {
        if (escapes && sql[index] === '\\') index += 2;
        else if (sql[index] === char && sql[index + 1] === char) index += 2;
        else if (sql[index] === char) break;
        else index += 1;
      }
      index += 1;
    } else if (char === '$' && !/\w/.test(sql[index - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(index, index + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], index + tag[0].length);
        index = end < 0 ? length : end + tag[0].length;
      } else index += 1;
    } else if (char === ';') {
      statements.push(sql.slice(start, index + 1));
      index += 1;
      start = index;
    } else index += 1;
  }
  statements.push(sql.slice(start));
  return statements.filter((statement) => stripComments(statement).replace(/;$/, '').trim() !== '');
}

export type StatementKind =
  | 'begin'
  | 'commit'
  | 'commit-and-chain'
  | 'rollback'
  | 'rollback-and-chain'
  | 'set-transaction'
  /** Two-phase commit: would outlive the replay's transaction, refused. */
  | 'two-phase'
  /** VACUUM: cannot run inside a transaction block and changes no row anyone can see. */
  | 'vacuum';

/** What one statement does to the transaction, from its leading keywords; undefined = nothing special. */
export function statementKind(statement: string): StatementKind | undefined {
  // Comments anywhere count as whitespace, as in Postgres: `commit/**/` and `commit--x` are COMMITs.
  const words = commentsAsSpaces(statement)
    .toLowerCase()
    .split(/[^a-z0-9_$]+/)
    .filter(Boolean);
  const [first, second] = words;
  const chain = /\band\s+chain$/.test(words.join(' ')) && !/\bno\s+chain$/.test(words.join(' '));
  switch (first) {
    case 'begin':
    case 'start':
      return 'begin';
    case 'commit':
    case 'end':
      if (second === 'prepared') return 'two-phase';
      return chain ? 'commit-and-chain' : 'commit';
    case 'rollback':
    case 'abort':
      if (second === 'prepared') return 'two-phase';
      if (second === 'to' || (words[2] === 'to' && (second === 'work' || second === 'transaction')))
        return undefined; // ROLLBACK TO SAVEPOINT: fine inside the replay's transaction
      return chain ? 'rollback-and-chain' : 'rollback';
    case 'prepare':
      return second === 'transaction' ? 'two-phase' : undefined;
    case 'set':
      return second === 'transaction' ? 'set-transaction' : undefined;
    case 'vacuum':
      return 'vacuum';
    default:
      return undefined;
  }
}

/** Where a `--` comment starting at `from` ends: after the next \n or \r (Postgres ends it at either). */
function lineCommentEnd(sql: string, from: number): number {
  const match = /[\n\r]/.exec(sql.slice(from));
  return match ? from + match.index + 1 : sql.length;
}

/** The statement with every comment (nested block comments included) replaced by a space. */
function commentsAsSpaces(statement: string): string {
  let out = '';
  let rest = statement;
  for (;;) {
    const at = rest.search(/--|\/\*/);
    if (at < 0) return out + rest;
    out += `${rest.slice(0, at)} `;
    const tail = rest.slice(at);
    const stripped = stripComments(tail);
    // stripComments removes leading comments only; the tail starts with one, so it always shrinks.
    rest = stripped.length < tail.length ? stripped : tail.slice(2);
  }
}

/** Removes leading/trailing whitespace and comments (nested block comments included). */
function stripComments(statement: string): string {
  let text = statement;
  for (;;) {
    const trimmed = text.replace(/^\s+/, '');
    if (trimmed.startsWith('--')) {
      text = trimmed.slice(lineCommentEnd(trimmed, 0));
    } else if (trimmed.startsWith('/*')) {
      let depth = 0;
      let index = 0;
      do {
        if (trimmed.startsWith('/*', index)) {
          depth += 1;
          index += 2;
        } else if (trimmed.startsWith('*/', index)) {
          depth -= 1;
          index += 2;
        } else index += 1;
      } while (depth > 0 && index < trimmed.length);
      text = trimmed.slice(index);
    } else return trimmed;
  }
}

export type IsolationLevel = 'serializable' | 'repeatable read' | 'read committed' | 'read uncommitted';
const isolationLevels: IsolationLevel[] = [
  'serializable',
  'repeatable read',
  'read committed',
  'read uncommitted',
];

/**
 * The isolation level a statement asks for: `BEGIN`/`START TRANSACTION … ISOLATION LEVEL x`,
 * `SET TRANSACTION …`, `SET SESSION CHARACTERISTICS AS TRANSACTION …`, `SET default_transaction_isolation`.
 */
export function isolationLevelOf(statement: string): IsolationLevel | undefined {
  const text = normalizedStatement(statement);
  const named =
    /^(?:begin|start transaction|set (?:session characteristics as )?transaction)\b.*\bisolation level (serializable|repeatable read|read committed|read uncommitted)\b/.exec(
      text,
    ) ??
    /^set (?:session |local )?default_transaction_isolation (?:=|to) (serializable|repeatable read|read committed|read uncommitted)\b/.exec(
      text,
    );
  return named ? (named[1] as IsolationLevel) : undefined;
}

/** Lower case, comments and quotes as spaces, one space between words: for matching settings. */
export function normalizedStatement(statement: string): string {
  return commentsAsSpaces(statement).toLowerCase().replace(/['"]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The strictest of the levels (serializable first); undefined when none. */
export function strictestIsolation(levels: Iterable<IsolationLevel>): IsolationLevel | undefined {
  const seen = new Set(levels);
  return isolationLevels.find((level) => seen.has(level));
}
