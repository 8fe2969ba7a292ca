/**
 * A small SQL tokenizer: just enough to find `alias.column` references and `from <table> <alias>` pairs
 * in manifest snippets without being fooled by string literals, comments, dollar quotes or quoted
 * identifiers. It does not parse SQL; Postgres itself checks the snippets (doctor EXPLAINs them).
 */
export type TokenKind = 'ident' | 'quoted' | 'punct' | 'other';

export interface Token {
  kind: TokenKind;
  /** Unquoted identifiers lower-cased (as Postgres folds them); quoted ones exact. */
  value: string;
  /** The token as written (identifiers keep their quotes), for names handed back to Postgres. */
  text: string;
}

const identStart = /[A-Za-z_\u0080-\uffff]/;
const identPart = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Splits SQL into tokens, dropping whitespace, comments and literals (literals become one `other`). */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (ch === "'" || ((ch === 'E' || ch === 'e') && next === "'")) {
      const escapes = ch !== "'";
      i = skipString(sql, escapes ? i + 1 : i, escapes);
      tokens.push({ kind: 'other', value: "''", text: "''" });
    } else if (ch === '$' && /[A-Za-z_$]/.test(next ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? sql.length : end + tag[0].length;
        tokens.push({ kind: 'other', value: "''", text: "''" });
      } else {
        i += 1;
      }
    } else if (ch === '"') {
      let j = i + 1;
      let value = '';
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') {
          value += '"';
          j += 2;
        } else if (sql[j] === '"') {
          break;
        } else {
          value += sql[j];
          j += 1;
        }
      }
      tokens.push({ kind: 'quoted', value, text: sql.slice(i, j + 1) });
      i = j + 1;
    } else if (identStart.test(ch)) {
      let j = i + 1;
      while (j < sql.length && identPart.test(sql[j]!)) j += 1;
      const text = sql.slice(i, j);
      tokens.push({ kind: 'ident', value: text.toLowerCase(), text });
      i = j;
    } else if (/[0-9]/.test(ch)) {
      let j = i + 1;
      // A number: digits, one dot, exponent. `1.5` must not read as qualifier `1`, column `5`.
      while (j < sql.length && /[0-9.eE]/.test(sql[j]!)) j += 1;
      tokens.push({ kind: 'other', value: sql.slice(i, j), text: sql.slice(i, j) });
      i = j;
    } else {
      tokens.push({ kind: 'punct', value: ch, text: ch });
      i += 1;
    }
  }
  return tokens;
}

function skipBlockComment(sql: string, start: number): number {
  // Postgres block comments nest.
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

function skipString(sql: string, start: number, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    if (backslashEscapes && sql[i] === '\\') {
      i += 2;
    } else if (sql[i] === "'" && sql[i + 1] === "'") {
      i += 2;
    } else if (sql[i] === "'") {
      return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** True for an identifier token (quoted or not). */
export function isName(token: Token | undefined): token is Token {
  return token !== undefined && (token.kind === 'ident' || token.kind === 'quoted');
}
