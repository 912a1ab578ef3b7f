/**
 * The fuzz oracle itself: a property is only worth its runs if it fails on a broken service.
 * Each case feeds `violations()` one answer a broken API could give and expects it to be caught;
 * the healthy answers must pass.
 */
import type { FuzzWorld, HostileRequest } from '../../lib/reliability/arbitraries';
import { violations } from '../../lib/reliability/fuzz';
import type { RawResponse } from '../../lib/reliability/http';

const VICTIM_ID = '01JVICTIM000000000000000000';
const world: FuzzWorld = {
  apiUrl: 'http://127.0.0.1:1',
  maxBodyBytes: 1024,
  victim: { sub: 'victim-sub', token: 'v', notes: [{ noteId: VICTIM_ID, title: 'MARK title', content: 'MARK content', version: 1 }], marker: 'MARK' },
  attacker: { sub: 'attacker-sub', token: 'a', noteIds: ['01JATTACKER0000000000000000'], editIds: [] },
  forged: [],
};

const req = (over: Partial<HostileRequest> = {}): HostileRequest => ({ sender: 'attacker', method: 'GET', path: '/notes', headers: {}, note: '', ...over });
const res = (status: number, body: unknown, headers: Record<string, string> = {}): RawResponse => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('the fuzz oracle', () => {
  test.each([
    ['a 500', req(), res(500, { error: { code: 'INTERNAL_ERROR', message: 'boom' } })],
    ['a 502 from the gateway', req(), res(502, { message: 'Internal server error' })],
    ['a 400 in the gateway shape', req({ method: 'POST' }), res(400, { message: 'bad' })],
    ['a 404 that is not JSON', req({ path: '/notes/x' }), res(404, 'Not Found')],
    ["a bare 400 for a method Node's parser does not know", req({ method: 'FOO' }), res(400, '')],
    ['an error without a code', req(), res(400, { error: { message: 'no code' } })],
    ['a 200 that is not JSON', req(), res(200, '<html>')],
    ['a /notes route served to an anonymous caller', req({ sender: 'anonymous' }), res(200, { items: [] })],
    ['a /notes route served to a forged token', req({ sender: 'forged', method: 'DELETE', path: '/notes/01JATTACKER0000000000000000' }), res(204, '')],
    ["the victim's note in a list", req(), res(200, { items: [{ noteId: VICTIM_ID, title: 'MARK title' }] })],
    ["the victim's id in a header", req({ method: 'POST' }), res(201, { noteId: 'x' }, { location: `/notes/${VICTIM_ID}` })],
    ["the victim's title behind a guessed id", req({ path: `/notes/${VICTIM_ID}` }), res(200, { noteId: VICTIM_ID, title: 'MARK title' })],
  ])('catches %s', (_name, request, response) => {
    expect(violations(world, request, response).length).toBeGreaterThan(0);
  });

  test.each([
    ['a 404 that echoes the id the caller asked for', req({ path: `/notes/${VICTIM_ID}` }), res(404, { error: { code: 'NOT_FOUND', message: `no note ${VICTIM_ID}` } })],
    ['the gateway 401', req({ sender: 'forged' }), res(401, { message: 'Unauthorized' })],
    ['the gateway 403 for an unknown path', req({ path: '/nope' }), res(403, { message: 'Missing Authentication Token' })],
    ['an open /health to anyone, even via a dot-segment', req({ sender: 'anonymous', path: '/notes/../health' }), res(200, { status: 'ok' })],
    ["the gateway's 400 for a method Node's parser does not know", req({ method: 'FOO' }), res(400, { message: 'Bad Request: the HTTP request could not be parsed (HPE_INVALID_METHOD)' })],
    ['an empty 204 to the attacker', req({ method: 'DELETE', path: '/notes/01JATTACKER0000000000000000' }), res(204, '')],
  ])('accepts %s', (_name, request, response) => {
    expect(violations(world, request, response)).toEqual([]);
  });
});
