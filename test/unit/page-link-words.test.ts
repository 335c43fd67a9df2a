/**
 * What the page says of its link (static/state/link-words.js), which negotiate answers stop it for good
 * (static/link/refusal.js) and which records of the browser's session end a tab's (static/state/browser-session.js):
 * plain modules, imported as the page does.
 */
import { describe, expect, it } from 'vitest';

type Refusal =
  | { kind: 'banned'; reason: string | null; message: string }
  | { kind: 'signed-out'; message: string; elsewhere?: 'sign-out' | 'other-account' };
interface LinkView {
  online: boolean;
  status: string;
  retrySeconds: number;
  refusal: Refusal | null;
  refusedAt?: number | null;
  unsent: number;
}
const words: {
  shownStatus(view: LinkView): string;
  statusText(view: LinkView): string;
  shortStatusText(view: LinkView): string;
  bannerText(view: LinkView): string;
  heldText(view: LinkView): string;
  composerOffText(view: LinkView): string;
  composerHintText(view: LinkView & { connected: boolean }): string;
  onlineListText(view: LinkView): string;
  signInUrl(returnTo: string, conversationId?: string): string;
} = await import(new URL('../../static/state/link-words.js', import.meta.url).href);
const refusals: {
  refusalOf(status: number, body: string): Refusal | null;
  refusalOfHttpError(error: unknown): Refusal | null;
  endedElsewhere(end: 'sign-out' | 'other-account'): Refusal;
} = await import(new URL('../../static/link/refusal.js', import.meta.url).href);
const session: {
  sessionEndFor(me: string, record: unknown): 'sign-out' | 'other-account' | null;
} = await import(new URL('../../static/state/browser-session.js', import.meta.url).href);

const view = (over: Partial<LinkView>): LinkView => ({
  online: true,
  status: 'connected',
  retrySeconds: 0,
  refusal: null,
  unsent: 0,
  ...over,
});
const banned = (reason: string | null): Refusal => ({
  kind: 'banned',
  reason,
  message: 'A moderator has banned you',
});

describe('negotiate refusals that stop the link', () => {
  it('takes a 403 banned (with its reason) and any 401 for good, and nothing else', () => {
    const body = JSON.stringify({
      code: 'banned',
      message: 'A moderator has banned you (spam)',
      reason: 'spam',
    });
    expect(refusals.refusalOf(403, body)).toEqual({
      kind: 'banned',
      reason: 'spam',
      message: 'A moderator has banned you (spam)',
    });
    expect(refusals.refusalOf(403, JSON.stringify({ code: 'banned', message: 'm' }))).toEqual({
      kind: 'banned',
      reason: null,
      message: 'm',
    });
    expect(
      refusals.refusalOf(401, JSON.stringify({ code: 'not-signed-in', message: 'Not signed in' })),
    ).toEqual({
      kind: 'signed-out',
      message: 'Not signed in',
    });
    expect(refusals.refusalOf(401, 'Not signed in: open /.auth/login/aad')).toEqual({
      kind: 'signed-out',
      message: 'Not signed in: open /.auth/login/aad',
    });
    // Worth another try: overload, a server error, a 403 that is not a ban, a 400 of a page out of date.
    expect(
      refusals.refusalOf(429, JSON.stringify({ code: 'too-many-negotiates', message: 'wait' })),
    ).toBeNull();
    expect(refusals.refusalOf(503, '')).toBeNull();
    expect(refusals.refusalOf(403, JSON.stringify({ code: 'other', message: 'no' }))).toBeNull();
    expect(refusals.refusalOf(403, '<html>banned</html>')).toBeNull();
  });

  it("reads the SignalR client's HttpError: the answer's text, then its status", () => {
    const body = JSON.stringify({ code: 'banned', message: 'A moderator has banned you', reason: 'spam' });
    const error = Object.assign(new Error(`${body}: Status code '403'`), { statusCode: 403 });
    expect(refusals.refusalOfHttpError(error)).toEqual({
      kind: 'banned',
      reason: 'spam',
      message: 'A moderator has banned you',
    });
    const signedOut = Object.assign(new Error("Not signed in: Status code '401'"), { statusCode: 401 });
    expect(refusals.refusalOfHttpError(signedOut)).toEqual({ kind: 'signed-out', message: 'Not signed in' });
    expect(refusals.refusalOfHttpError(new Error('Failed to fetch'))).toBeNull();
  });
});

describe('what the page says of its link', () => {
  it('says a ban plainly, with the reason, when the page asks again, and that unsent messages stay on this browser', () => {
    const v = view({ status: 'refused', refusal: banned('spam'), unsent: 2 });
    expect(words.shownStatus(v)).toBe('refused');
    expect(words.statusText(v)).toBe('Banned');
    expect(words.bannerText(v)).toBe(
      'This account is banned from the chat (reason: spam). The page asks every 5 minutes whether the ban is lifted; "Try again" asks now. 2 messages you wrote were not sent: they stay on this browser.',
    );
    expect(words.bannerText(view({ status: 'refused', refusal: banned(null), unsent: 1 }))).toBe(
      'This account is banned from the chat. The page asks every 5 minutes whether the ban is lifted; "Try again" asks now. 1 message you wrote was not sent: it stays on this browser.',
    );
    // When it last asked, as the time of day.
    const asked = words.bannerText({ ...v, refusedAt: Date.UTC(2026, 11, 8, 4, 50), unsent: 0 });
    expect(asked).toMatch(
      /^This account is banned from the chat \(reason: spam\)\. The page asks every 5 minutes whether the ban is lifted \(last at .+\); "Try again" asks now\.$/,
    );
    // Offline too: the refusal still wins, no network changes it.
    expect(words.shownStatus({ ...v, online: false })).toBe('refused');
    expect(words.bannerText({ ...v, online: false, unsent: 0 })).toBe(
      'This account is banned from the chat (reason: spam). The page asks every 5 minutes whether the ban is lifted; "Try again" asks now.',
    );
  });

  it('asks a signed-out person to sign in again, coming back to the same page', () => {
    const v = view({ status: 'refused', refusal: { kind: 'signed-out', message: 'Not signed in' } });
    expect(words.statusText(v)).toBe('Signed out');
    expect(words.bannerText(v)).toBe('You are signed out: sign in again to keep chatting.');
    // A message waiting says why it waits, not "Sending…"; while the page still tries, it says nothing else.
    expect(words.heldText(v)).toBe('Not sent yet: sign in again to send it');
    expect(words.heldText(view({ status: 'refused', refusal: banned(null) }))).toBe(
      'Not sent: this account is banned from the chat',
    );
    expect(words.heldText(view({ status: 'reconnecting' }))).toBe('');
    expect(words.heldText(view({ online: false }))).toBe('');
    expect(words.signInUrl('/api/home?service=webpubsub')).toBe(
      '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fhome%3Fservice%3Dwebpubsub',
    );
    // The open conversation comes back too, as the page's own fragment (the room has none).
    expect(words.signInUrl('/api/home', 'group:team')).toBe(
      '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fhome%23group%3Ateam',
    );
    expect(words.signInUrl('/api/home', 'room')).toBe(
      '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fhome',
    );
    expect(decodeURIComponent(words.signInUrl('/', 'group:a#b?c').split('=')[1] ?? '')).toBe(
      '/#group:a%23b%3Fc',
    );
  });

  it('says a session ended in another tab as such: a sign-out there, or another account signed in', () => {
    expect(session.sessionEndFor('bob', { user: 'bob' })).toBeNull();
    expect(session.sessionEndFor('bob', { user: null })).toBe('sign-out');
    expect(session.sessionEndFor('bob', { user: 'eve' })).toBe('other-account');
    // Nothing known (no record, storage off, something else under the key): the tab goes on.
    for (const unknown of [null, undefined, 'bob', {}, { user: 7 }]) {
      expect(session.sessionEndFor('bob', unknown)).toBeNull();
    }
    const signedOut = refusals.endedElsewhere('sign-out');
    expect(signedOut).toEqual({
      kind: 'signed-out',
      message: 'Signed out in another tab.',
      elsewhere: 'sign-out',
    });
    const v = view({ status: 'refused', refusal: signedOut });
    expect(words.statusText(v)).toBe('Signed out');
    expect(words.bannerText(v)).toBe('You signed out in another tab: sign in again to keep chatting.');
    const other = view({ status: 'refused', refusal: refusals.endedElsewhere('other-account'), unsent: 1 });
    expect(words.statusText(other)).toBe('Signed out');
    expect(words.bannerText(other)).toBe(
      'Another account is signed in on this browser now, so this page has stopped: sign in again to keep chatting. 1 message you wrote was not sent: it stays on this browser.',
    );
  });

  it('promises that messages leave later only while the page still tries, and turns the box off when refused', () => {
    const signedOut = view({ status: 'refused', refusal: { kind: 'signed-out', message: 'Not signed in' } });
    const elsewhere = view({ status: 'refused', refusal: refusals.endedElsewhere('other-account') });
    const isBanned = view({ status: 'refused', refusal: banned(null) });
    for (const v of [signedOut, elsewhere]) {
      expect(words.composerOffText(v)).toBe('You are signed out: sign in again to write.');
      expect(words.composerHintText({ ...v, connected: false })).toBe('');
      expect(words.onlineListText(v)).toBe('Sign in again to see who is online.');
    }
    // Banned: nothing written could be sent, so the box is off until the ban is lifted, with no promise.
    expect(words.composerOffText(isBanned)).toBe('Banned: you can write once the ban is lifted.');
    expect(words.composerHintText({ ...isBanned, connected: false })).toBe('');
    expect(words.onlineListText(isBanned)).toBe('Who is online is not shown while this account is banned.');
    // Still trying: the promise holds, and the list waits for the next welcome.
    for (const v of [
      view({ status: 'offline' }),
      view({ online: false }),
      view({ status: 'reconnecting' }),
    ]) {
      expect(words.composerOffText(v)).toBe('');
      expect(words.composerHintText({ ...v, connected: false })).toBe(
        'Offline: messages are sent when the connection is back.',
      );
      expect(words.onlineListText(v)).toBe('');
    }
    expect(words.composerHintText({ ...view({}), connected: true })).toBe('');
  });

  it('counts down to the next try, in fewer words on a phone', () => {
    const v = view({ status: 'offline', retrySeconds: 11 });
    expect(words.statusText(v)).toBe('Offline · retrying in 11s');
    expect(words.shortStatusText(v)).toBe('Offline · 11s');
    expect(words.bannerText(v)).toBe(
      'Cannot reach the chat — trying again in 11 s. Messages will be sent when it is back.',
    );
    expect(words.shortStatusText(view({ status: 'offline' }))).toBe('Offline');
    expect(words.shortStatusText(view({ status: 'reconnecting' }))).toBe('Reconnecting…');
    expect(words.statusText(view({ online: false, status: 'connected' }))).toBe('Offline');
    expect(words.bannerText(view({}))).toBe('');
  });
});
