import { type StepEvent, stepEvents } from '../egress/event.js';
import type { RunTrace } from '../generated/trace.js';

/**
 * The trace as JUnit XML for CI systems: one testcase per materialization, command, probe and judge, and
 * one for the gate. Failures carry their message; allowed failures and warnings pass with a note.
 */
export function toJunit(trace: RunTrace): string {
  const cases: string[] = [];
  for (const event of stepEvents(trace.events)) cases.push(eventCase(event));
  for (const judge of trace.judges) {
    const detail = judge.reasons.join('\n');
    cases.push(
      testcase(
        `judges`,
        judge.id,
        0,
        judge.verdict === 'fail'
          ? failure(judge.reasons[0] ?? 'failed', detail)
          : note(`${judge.verdict}: ${detail}`),
      ),
    );
  }
  const gateFailed = trace.gate === 'block' || trace.gate === 'human_review';
  const gateDetail = trace.gateReasons.join('\n');
  cases.push(
    testcase(
      'gate',
      'verdict',
      0,
      gateFailed ? failure(`gate: ${trace.gate}`, gateDetail) : note(`${trace.gate}\n${gateDetail}`),
    ),
  );
  const failures = cases.filter((text) => text.includes('<failure')).length;
  const skipped = cases.filter((text) => text.includes('<skipped')).length;
  const seconds = (Date.parse(trace.finishedAt) - Date.parse(trace.startedAt)) / 1000;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="replay-env run" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds.toFixed(3)}">`,
    `  <testsuite name="${xml(`replay-env run ${trace.app}`)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" errors="0" time="${seconds.toFixed(3)}" timestamp="${xml(trace.startedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function eventCase(event: StepEvent): string {
  const seconds = event.durationMs / 1000;
  const message = event.message ?? 'failed';
  const classname = `${event.kind}s`;
  if (event.skipped)
    return testcase(classname, event.name, seconds, `      <skipped message="${xml(message)}"/>\n`);
  const allowed = !event.success && 'allowFailure' in event && event.allowFailure === true;
  const screenshot = 'screenshot' in event && event.screenshot ? `screenshot: ${event.screenshot}\n` : '';
  const stdout = `${allowed ? `allowed failure: ${message}\n` : ''}${screenshot}${'stdout' in event ? (event.stdout ?? '') : ''}`;
  const stderr = 'stderr' in event ? (event.stderr ?? '') : '';
  const output =
    (stdout ? `      <system-out>${xml(stdout)}</system-out>\n` : '') +
    (stderr ? `      <system-err>${xml(stderr)}</system-err>\n` : '');
  const failed = !event.success && !allowed ? failure(message, message) : '';
  return testcase(classname, event.name, seconds, failed + output);
}

function testcase(classname: string, name: string, seconds: number, body: string): string {
  const open = `    <testcase classname="${xml(classname)}" name="${xml(name)}" time="${seconds.toFixed(3)}"`;
  return body ? `${open}>\n${body}    </testcase>` : `${open}/>`;
}

function failure(message: string, detail: string): string {
  return `      <failure message="${xml(message)}">${xml(detail)}</failure>\n`;
}

function note(text: string): string {
  return `      <system-out>${xml(text)}</system-out>\n`;
}

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold at all. */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
