/**
 * Process exit codes. Stable: CI pipelines and agents branch on them.
 *
 * 0 continue/warn/success · 1 internal bug · 2 usage or input error · 3 database error
 * 4 unsafe target refused · 5 subprocess failure · 6 integrity/verification failure
 * 10 gate verdict human_review · 11 gate verdict block · 12 replay mismatch
 * 130 interrupted (SIGINT) · 143 terminated (SIGTERM), the shell's conventions
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  database: 3,
  unsafeTarget: 4,
  subprocess: 5,
  integrity: 6,
  doctorFailed: 7,
  humanReview: 10,
  block: 11,
  replayMismatch: 12,
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
