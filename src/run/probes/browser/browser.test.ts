import { describe, expect, it } from 'vitest';

import { checkBrowserProbe, parseHttpUrl } from '../../../manifest/check-browser-probe.js';
import { browserSource, chromiumEnvVar, launchFailure } from '../../browser-session.js';
import { displayUrl } from './display-url.js';
import { screenshotPath } from './screenshot.js';
import { describeStep } from './steps.js';

describe('screenshotPath', () => {
  it('puts the PNG next to the trace, named after the trace and the probe', () => {
    expect(screenshotPath('/w/out/run-trace.json', 'home')).toBe('/w/out/run-trace.home.png');
  });
  it('reduces an unsafe probe name and adds a hash of the real one, so names never collide', () => {
    const a = screenshotPath('/w/t.json', '../../etc/passwd');
    const b = screenshotPath('/w/t.json', '..-..-etc-passwd');
    expect(a).toMatch(/^\/w\/t\.-etc-passwd-[0-9a-f]{8}\.png$/);
    expect(b).toMatch(/^\/w\/t\.----etc-passwd-[0-9a-f]{8}\.png$/);
    expect(screenshotPath('/w/t.json', '..')).toMatch(/^\/w\/t\.--[0-9a-f]{8}\.png$/);
    expect(screenshotPath('/w/t.json', 'a b')).not.toBe(screenshotPath('/w/t.json', 'a/b'));
  });
});

describe('checkBrowserProbe', () => {
  const base = { name: 'p', kind: 'browser' as const };
  it('accepts http(s) urls, relative gotos and valid patterns', () => {
    expect(
      checkBrowserProbe(
        { ...base, url: 'https://app.test/', steps: [{ goto: '/settings' }], ignoreConsole: ['^favicon'] },
        '/probes/0',
      ),
    ).toEqual([]);
  });
  it.each([
    [{ url: 'file:///etc/passwd' }, '/probes/0/url: a browser probe needs an absolute http(s) URL'],
    [{ url: 'app.test' }, '/probes/0/url: a browser probe needs an absolute http(s) URL'],
    [
      { url: 'http://app.test/', steps: [{ goto: 'javascript:alert(1)' }] },
      '/probes/0/steps/0/goto: not an http(s) URL (absolute, or relative to url)',
    ],
    [
      { url: 'http://app.test/', ignoreConsole: ['(unclosed'] },
      /^\/probes\/0\/ignoreConsole\/0: not a regular expression/,
    ],
    [
      { url: 'http://app.test/', expectBodyContains: 'x' },
      '/probes/0/expectBodyContains: browser probes use expectText',
    ],
  ])('rejects %j', (fields, error) => {
    const errors = checkBrowserProbe({ ...base, ...fields }, '/probes/0');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(error);
  });
  it('parseHttpUrl resolves relative URLs against a base', () => {
    expect(parseHttpUrl('/x?y=1', new URL('http://a.test/b/'))?.href).toBe('http://a.test/x?y=1');
    expect(parseHttpUrl('data:text/html,hi')).toBeUndefined();
  });
});

describe('describeStep', () => {
  it('names what a step acts on, never a fill value', () => {
    expect(describeStep({ fill: '#password', value: 'hunter2' })).toEqual({
      action: 'fill',
      target: '#password',
    });
    expect(describeStep({ press: 'Enter', selector: '#q' })).toEqual({
      action: 'press',
      target: 'Enter on #q',
    });
    expect(describeStep({ waitFor: { text: 'Saved' } })).toEqual({
      action: 'waitFor',
      target: 'text "Saved"',
    });
  });
});

describe('browser choice', () => {
  it('$REPLAY_ENV_CHROMIUM wins over the manifest, which wins over the bundled one', () => {
    expect(browserSource({ [chromiumEnvVar]: '/opt/c' }, '/m/c')).toEqual({ kind: 'env', path: '/opt/c' });
    expect(browserSource({}, '/m/c')).toEqual({ kind: 'manifest', path: '/m/c' });
    expect(browserSource({ [chromiumEnvVar]: '' }, undefined)).toEqual({ kind: 'bundled' });
  });
  it("launchFailure keeps the exit status and stderr from Playwright's call log", () => {
    const message =
      'browserType.launch: Target page, context or browser has been closed\nBrowser logs:\n\n<launching> /x\n' +
      '[pid=7][err] error while loading shared libraries: libnss3.so\nCall log:\n\u001b[2m  - [pid=7] <process did exit: exitCode=127, signal=null>\u001b[22m\n';
    expect(launchFailure(message)).toBe(
      'exited: exitCode=127, signal=null; stderr: error while loading shared libraries: libnss3.so',
    );
    expect(launchFailure('Timeout 60000ms exceeded.\nmore')).toBe('Timeout 60000ms exceeded.');
  });
});

describe('displayUrl', () => {
  it('hides a password in a URL, wherever the URL is in the text', () => {
    expect(displayUrl('http://ada:s3cret@app.test/x')).toBe('http://ada:***@app.test/x');
    expect(displayUrl('load https://u:p@a.test/: status 500')).toBe('load https://u:***@a.test/: status 500');
    expect(displayUrl('http://app.test/a@b')).toBe('http://app.test/a@b');
    expect(displayUrl('#subject')).toBe('#subject');
  });
});
