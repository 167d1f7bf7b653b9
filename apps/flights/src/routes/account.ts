// Register, log in, log out, reset a password, my bookings. None of these
// answers tells whether an email has an account: login fails with one
// message, registration and reset answer the same for a known and an unknown
// address, after the same work (OWASP ASVS 5.0 6.3.8).
import type { FastifyInstance } from 'fastify';
import type { Db } from '@rampart/data';
import { authenticate, checkPasswordPolicy, hashPassword, type ResetTokens } from '@rampart/kit';
import { bookingsOf } from '../queries/bookings.ts';
import { completeReset, createUser, findUserByEmail, isResetOpen, queueEmail, setPasswordHash, type UserRow } from '../queries/users.ts';
import { LOGIN_BODY, LOGIN_QUERY, REGISTER_BODY, RESET_CONFIRM_BODY, RESET_REQUEST_BODY, RESET_TOKEN_QUERY } from '../schemas.ts';
import { SESSION_USER, localPath, pageContext } from '../context.ts';
import { bookingsPage, loginPage, registerPage, resetConfirmPage, resetRequestPage } from '../views/account.ts';

export const LOGIN_FAILED = 'Wrong email or password.';
const REGISTERED =
  'Thank you. If this address had no account yet, it has one now: log in below. Either way we have sent a message to the address.';

// Deliberately loose: the only real check of an address is a message that
// arrives. This refuses what cannot be one.
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export interface AccountDeps {
  db: Db;
  resets: ResetTokens<{ id: string; passwordHash: string; numericId: number; email: string }>;
}

export function accountRoutes(app: FastifyInstance, { db, resets }: AccountDeps): void {
  app.get<{ Querystring: { next?: string; registered?: string; reset?: string } }>('/login', { schema: { querystring: LOGIN_QUERY } }, async function loginForm(request, reply) {
    const q = request.query;
    const notice = q.registered === '1' ? REGISTERED : q.reset === '1' ? 'Your password was changed: log in with the new one.' : undefined;
    return reply.html(loginPage(pageContext(request), { next: localPath(q.next) ?? undefined, notice }));
  });

  app.post<{ Body: { email: string; password: string; next?: string } }>('/login', { schema: { body: LOGIN_BODY } }, async function login(request, reply) {
    const { email, password } = request.body;
    const next = localPath(request.body.next);
    const user = await authenticate<UserRow>({
      login: email.trim(),
      password,
      findUser: (login) => findUserByEmail(db, login),
      onRehash: (u, hash) => setPasswordHash(db, u.id, hash),
    });
    if (user === null) {
      return reply.html(loginPage(pageContext(request), { email, next: next ?? undefined, error: LOGIN_FAILED }), 401);
    }
    // A new session id at login: an id planted before (session fixation) is worthless afterwards.
    await request.session.regenerate();
    request.session.set(SESSION_USER, user.id);
    return reply.redirect(next ?? '/', 303);
  });

  app.post('/logout', async function logout(request, reply) {
    await request.session.destroy();
    return reply.redirect('/', 303);
  });

  app.get('/register', async function registerForm(request, reply) {
    return reply.html(registerPage(pageContext(request), {}));
  });

  app.post<{ Body: { email: string; password: string } }>('/register', { schema: { body: REGISTER_BODY } }, async function register(request, reply) {
    const email = request.body.email.trim();
    const { password } = request.body;
    if (!EMAIL.test(email)) return reply.html(registerPage(pageContext(request), { email, error: 'Enter an email address.' }), 400);
    const policy = checkPasswordPolicy(password, { context: [email] });
    if (!policy.ok) return reply.html(registerPage(pageContext(request), { email, error: policy.reason }), 400);
    // Hashed whether or not the address is taken, so both answers take one argon2 run.
    const hash = await hashPassword(password);
    const id = await createUser(db, email, hash);
    if (id === null) {
      await queueEmail(db, {
        to: email,
        subject: 'Someone tried to register with your address',
        body: 'Someone tried to create a flights account with this address, which already has one. If it was you, log in, or reset your password if you forgot it. Otherwise, nothing has changed.',
      });
    } else {
      await queueEmail(db, { to: email, subject: 'Welcome to flights', body: 'Your account is ready. Log in to book a seat.' });
    }
    return reply.redirect('/login?registered=1', 303);
  });

  app.get('/password-reset', async function resetForm(request, reply) {
    return reply.html(resetRequestPage(pageContext(request), {}));
  });

  app.post<{ Body: { email: string } }>('/password-reset', { schema: { body: RESET_REQUEST_BODY } }, async function resetRequest(request, reply) {
    // Returns at once; the lookup and the e-mail run after this answer is sent.
    resets.request(request.body.email.trim());
    return reply.html(resetRequestPage(pageContext(request), { sent: true }));
  });

  app.get<{ Querystring: { token: string } }>('/password-reset/confirm', { schema: { querystring: RESET_TOKEN_QUERY } }, async function resetConfirmForm(request, reply) {
    const { token } = request.query;
    const user = await resets.verify(token);
    const valid = user !== null && (await isResetOpen(db, user.numericId, token));
    // The token is in this page's URL: tell the browser not to send it on.
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
    return reply.html(resetConfirmPage(pageContext(request), { token, valid }), valid ? 200 : 400);
  });

  app.post<{ Body: { token: string; password: string } }>('/password-reset/confirm', { schema: { body: RESET_CONFIRM_BODY } }, async function resetConfirm(request, reply) {
    const { token, password } = request.body;
    const user = await resets.verify(token);
    if (user === null) return reply.html(resetConfirmPage(pageContext(request), { token, valid: false }), 400);
    const policy = checkPasswordPolicy(password, { context: [user.email] });
    if (!policy.ok) return reply.html(resetConfirmPage(pageContext(request), { token, valid: true, error: policy.reason }), 400);
    const done = await completeReset(db, { userId: user.numericId, token, passwordHash: await hashPassword(password) });
    if (!done) return reply.html(resetConfirmPage(pageContext(request), { token, valid: false }), 400);
    // Whoever had this browser's session before the reset is out.
    await request.session.destroy();
    return reply.redirect('/login?reset=1', 303);
  });

  app.get<{ Querystring: { booked?: number } }>(
    '/bookings',
    { schema: { querystring: { type: 'object', properties: { booked: { type: 'integer', minimum: 1, maximum: 2_147_483_647 } } } } },
    async function myBookings(request, reply) {
      const viewer = request.viewer;
      if (viewer === null) return reply.redirect('/login?next=%2Fbookings', 303);
      return reply.html(bookingsPage(pageContext(request), await bookingsOf(db, viewer.id), request.query.booked));
    },
  );
}
