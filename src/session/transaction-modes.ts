import { normalizedStatement, splitStatements, statementKind } from './sql-statements.js';

/** READ ONLY / READ WRITE and [NOT] DEFERRABLE as a statement sets them. */
export interface TransactionModes {
  /** 'transaction': this transaction (BEGIN, SET TRANSACTION); 'session': the ones started later. */
  scope: 'transaction' | 'session';
  readOnly?: boolean;
  deferrable?: boolean;
}

/**
 * The access mode and deferrability a statement asks for: `BEGIN`/`START TRANSACTION`/`SET TRANSACTION
 * … READ ONLY, DEFERRABLE`, `SET SESSION CHARACTERISTICS AS TRANSACTION …`,
 * `SET default_transaction_read_only`/`default_transaction_deferrable`. Undefined: none.
 */
export function transactionModesOf(statement: string): TransactionModes | undefined {
  const text = normalizedStatement(statement);
  const modes =
    /^(begin|start transaction|set transaction|set session characteristics as transaction)\b(.*)$/.exec(text);
  if (modes) {
    const options = modes[2]!;
    const found: TransactionModes = {
      scope: modes[1]!.startsWith('set session') ? 'session' : 'transaction',
    };
    if (/\bread only\b/.test(options)) found.readOnly = true;
    else if (/\bread write\b/.test(options)) found.readOnly = false;
    if (/\bnot deferrable\b/.test(options)) found.deferrable = false;
    else if (/\bdeferrable\b/.test(options)) found.deferrable = true;
    return found.readOnly === undefined && found.deferrable === undefined ? undefined : found;
  }
  const setting =
    /^set (?:session )?default_transaction_(read_only|deferrable) (?:=|to) (on|true|yes|1|off|false|no|0)\b/.exec(
      text,
    );
  if (!setting) return undefined;
  const value = ['on', 'true', 'yes', '1'].includes(setting[2]!);
  return setting[1] === 'read_only'
    ? { scope: 'session', readOnly: value }
    : { scope: 'session', deferrable: value };
}

/** Statements a read-only transaction accepts when they read (what a whole-session read-only replay allows outside recorded transactions). */
const readingStatement = /^(select|show|set|reset)\b/;

/**
 * Whether `replay --rollback` can run the whole session in one READ ONLY transaction (DEFERRABLE when
 * recorded so): every recorded transaction was READ ONLY and everything outside them only reads or
 * changes settings. Then the recorded modes hold for every statement, and `SET`s inside those
 * transactions keep their effect. Otherwise each READ ONLY transaction is replayed as a read-only
 * savepoint (see the Runner in replay-session.ts).
 */
export function wholeSessionReadOnly(sqls: string[]): { readOnly: boolean; deferrable: boolean } {
  let defaultReadOnly = false;
  let defaultDeferrable = false;
  let inTransaction = false;
  let transactionReadOnly = false;
  let transactions = 0;
  let deferrable = false;
  for (const statement of sqls.flatMap((sql) => splitStatements(sql))) {
    const kind = statementKind(statement);
    const modes = transactionModesOf(statement);
    if (kind === 'begin') {
      inTransaction = true;
      transactions += 1;
      transactionReadOnly = modes?.readOnly ?? defaultReadOnly;
      deferrable ||= transactionReadOnly && (modes?.deferrable ?? defaultDeferrable);
    } else if (kind === 'set-transaction' && inTransaction) {
      if (modes?.readOnly !== undefined) transactionReadOnly = modes.readOnly;
      deferrable ||= transactionReadOnly && modes?.deferrable === true;
    } else if (kind === 'commit' || kind === 'rollback') inTransaction = false;
    else if (kind === 'commit-and-chain' || kind === 'rollback-and-chain') transactions += 1;
    else {
      if (modes?.scope === 'session') {
        defaultReadOnly = modes.readOnly ?? defaultReadOnly;
        defaultDeferrable = modes.deferrable ?? defaultDeferrable;
      }
      const reads = inTransaction
        ? transactionReadOnly
        : defaultReadOnly || readingStatement.test(normalizedStatement(statement));
      if (!reads) return { readOnly: false, deferrable: false };
    }
  }
  return transactions > 0 ? { readOnly: true, deferrable } : { readOnly: false, deferrable: false };
}
