// Sticky sessions end to end: the signed affinity cookie, its flags, what a
// tampered cookie gets, re-pinning when the pinned server leaves, WebSocket
// upgrades, and stickiness shared by gateways with the same keys
// (issue #3, section 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { waitFor } from '../helpers/wait.ts';
import { countBy, fleetConfig, get, startFleet, upstreamStatus, type Instance } from '../helpers/fleet.ts';

async function fleet(t: { after(fn: () => Promise<void>): void }, n = 3): Promise<Instance[]> {
  const servers = await startFleet(n);
  t.after(() => Promise.all(servers.map((s) => s.close())).then(() => {}));
  return servers;
}

/** `name=value` of a Set-Cookie header. */
function pair(setCookie: string): string {
  return setCookie.split(';')[0]!;
}

/** GETs with a cookie jar of one cookie: the pair sent, updated by any Set-Cookie. */
async function browse(gw: TestGateway, cookie: string | null, n: number): Promise<{ names: string[]; cookie: string | null; issued: number }> {
  const names: string[] = [];
  let issued = 0;
  for (let i = 0; i < n; i++) {
    const r = await get(`${gw.url}/`, cookie === null ? {} : { cookie });
    assert.equal(r.status, 200, r.body);
    names.push(r.instance!);
    if (r.setCookie !== null) {
      cookie = pair(r.setCookie);
      issued++;
    }
  }
  return { names, cookie, issued };
}

test('the first response pins the client with a signed, opaque, HttpOnly, SameSite=Lax cookie; it sticks', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'round-robin', sticky: true }));
  t.after(() => gw.close());
  const first = await get(`${gw.url}/`);
  assert.ok(first.setCookie, 'a Set-Cookie on the first response');
  const attrs = first.setCookie.split(';').map((a) => a.trim());
  assert.match(attrs[0]!, /^rampart_sticky=[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]+$/);
  assert.ok(attrs.includes('HttpOnly'));
  assert.ok(attrs.includes('SameSite=Lax'));
  assert.ok(attrs.includes('Path=/'));
  assert.ok(attrs.some((a) => /^Max-Age=3600$/.test(a)), 'ttl 1h by default');
  assert.ok(!attrs.some((a) => a.toLowerCase() === 'secure'), 'no Secure over plain HTTP');
  const value = pair(first.setCookie).split('=')[1]!;
  for (const s of servers) {
    assert.ok(!value.includes(String(s.port)), 'the value does not contain a server port');
    assert.ok(!value.includes(Buffer.from(s.url).toString('base64url').slice(0, 12)), 'nor the address in base64');
  }
  assert.ok(!value.includes('127.0.0.1'));

  // With the cookie, 12 requests go to the first one's server, and no new cookie is set.
  const { names, issued } = await browse(gw, pair(first.setCookie), 12);
  assert.deepEqual(countBy(names), { [first.instance!]: 12 });
  assert.equal(issued, 0, 'a valid cookie is not reissued');
  // Without it, round-robin goes on as usual.
  const cookieless = [];
  for (let i = 0; i < 6; i++) cookieless.push((await get(`${gw.url}/`)).instance);
  assert.equal(new Set(cookieless).size, 3);
});

test('a tampered, forged or foreign cookie counts as absent: a new cookie is issued', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'round-robin', sticky: { cookie: 'aff', ttl: '10m' } }));
  t.after(() => gw.close());
  const first = await get(`${gw.url}/`);
  assert.match(first.setCookie!, /^aff=.*Max-Age=600/);
  const [token, expiry, sig] = pair(first.setCookie!).slice('aff='.length).split('.') as [string, string, string];
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const bad = [
    `aff=${flip(token)}.${expiry}.${sig}`, // another server's token, old signature
    `aff=${token}.${String(Number(expiry) + 1_000_000)}.${sig}`, // extended expiry
    `aff=${token}.${expiry}.${flip(sig)}`, // forged signature
    `aff=${token}.${String(Date.now() - 1000)}.${sig}`, // expired (and so unsigned)
    'aff=garbage',
  ];
  for (const cookie of bad) {
    const r = await get(`${gw.url}/`, { cookie });
    assert.equal(r.status, 200);
    assert.ok(r.setCookie?.startsWith('aff='), `a new cookie for ${cookie}`);
    assert.notEqual(pair(r.setCookie!), cookie);
  }
  // The cookie beside others in the header is still found.
  const r = await get(`${gw.url}/`, { cookie: `a=1; ${pair(first.setCookie!)}; b=2` });
  assert.equal(r.instance, first.instance);
  assert.equal(r.setCookie, null);
});

test('a client pinned to a server that is drained, then unhealthy, is re-pinned to a healthy one with a new cookie', async (t) => {
  const servers = await fleet(t);
  const gw = await startGateway(
    fleetConfig(
      servers.map((s) => s.url),
      { balance: 'round-robin', sticky: true, health: { path: '/healthz', interval: '40ms', jitter: 0, fall: 1, rise: 1 }, outlier: false },
    ),
  );
  t.after(() => gw.close());
  const first = await get(`${gw.url}/`);
  const home = servers.find((s) => s.name === first.instance)!;
  const homeId = String(servers.indexOf(home));
  const cookie = pair(first.setCookie!);

  const drain = await fetch(`${gw.adminUrl}/upstreams/app/servers/${homeId}/drain`, { method: 'POST' });
  assert.equal(drain.status, 200);
  await drain.text();
  const moved = await browse(gw, cookie, 6);
  assert.equal(moved.issued, 1, 'one new cookie, then the client sticks to the new server');
  assert.equal(new Set(moved.names).size, 1);
  assert.notEqual(moved.names[0], home.name);
  assert.notEqual(moved.cookie, cookie);
  // The old cookie still names the drained server: it must keep being re-pinned, never sent there.
  assert.ok(!(await browse(gw, cookie, 3)).names.includes(home.name));

  // Undrained, the old cookie is honoured again (the pin names the server, not a state).
  await (await fetch(`${gw.adminUrl}/upstreams/app/servers/${homeId}/undrain`, { method: 'POST' })).text();
  assert.deepEqual(countBy((await browse(gw, cookie, 3)).names), { [home.name]: 3 });

  // The new home goes unhealthy: re-pinned again.
  const second = servers.find((s) => s.name === moved.names[0])!;
  second.healthStatus = 500;
  await waitFor(async () => (await upstreamStatus(gw.adminUrl)).servers[servers.indexOf(second)]!.state === 'unhealthy', { what: 'unhealthy' });
  const again = await browse(gw, moved.cookie, 4);
  assert.equal(again.issued, 1);
  assert.ok(!again.names.includes(second.name));
  assert.equal(new Set(again.names).size, 1);
});

test('a retried request pins the client to the server that answered, with a single Set-Cookie', async (t) => {
  const servers = await fleet(t, 2);
  const gw = await startGateway(fleetConfig(servers.map((s) => s.url), { balance: 'round-robin', sticky: true, outlier: false }));
  t.after(() => gw.close());
  servers[0]!.kill();
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-instance'), 's1');
    const cookies = res.headers.getSetCookie();
    assert.equal(cookies.length, 1, `one Set-Cookie, not one per attempt: ${cookies.join(' | ')}`);
    // The cookie leads back to s1 without a new pin.
    const back = await get(`${gw.url}/`, { cookie: pair(cookies[0]!) });
    assert.equal(back.instance, 's1');
    assert.equal(back.setCookie, null);
    await res.text();
  }
});

async function startWsFleet(n: number): Promise<{ urls: string[]; close(): Promise<void> }> {
  const servers: http.Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const server = http.createServer((_req, res) => res.writeHead(200, { 'x-instance': `w${i}` }).end(`w${i}`));
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.send(`w${i}`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  }
  return {
    urls,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** Opens a WebSocket through the gateway; resolves with the instance that greeted and any Set-Cookie of the handshake. */
async function wsHello(url: string, cookie: string | null): Promise<{ instance: string; setCookie: string | undefined }> {
  const ws = new WebSocket(url, { headers: cookie === null ? {} : { cookie } });
  let setCookie: string | undefined;
  ws.once('upgrade', (res) => {
    const h = res.headers['set-cookie'];
    setCookie = Array.isArray(h) ? h[0] : h;
  });
  const [data] = (await once(ws, 'message')) as [Buffer];
  ws.close();
  await once(ws, 'close');
  return { instance: data.toString(), setCookie };
}

test('a WebSocket upgrade honours the cookie, and an upgrade without one is pinned', async (t) => {
  const fleetWs = await startWsFleet(3);
  t.after(() => fleetWs.close());
  const gw = await startGateway(fleetConfig(fleetWs.urls, { balance: 'round-robin', sticky: true }));
  t.after(() => gw.close());
  const wsUrl = gw.url.replace('http:', 'ws:') + '/socket';
  const fresh = await wsHello(wsUrl, null);
  assert.ok(fresh.setCookie?.startsWith('rampart_sticky='), 'the 101 carries the pin');
  const cookie = pair(fresh.setCookie!);
  for (let i = 0; i < 5; i++) {
    const r = await wsHello(wsUrl, cookie);
    assert.equal(r.instance, fresh.instance, 'the upgrade went to the pinned server');
    assert.equal(r.setCookie, undefined);
  }
  // A plain request with the same cookie lands on the same server.
  assert.equal((await get(`${gw.url}/`, { cookie })).instance, fresh.instance);
});

test('two gateways with the same RAMPART_STICKY_KEYS honour each other’s cookies; a gateway with other keys does not', async (t) => {
  const servers = await fleet(t);
  const saved = process.env.RAMPART_STICKY_KEYS;
  t.after(() => {
    if (saved === undefined) delete process.env.RAMPART_STICKY_KEYS;
    else process.env.RAMPART_STICKY_KEYS = saved;
  });
  const config = fleetConfig(servers.map((s) => s.url), { balance: 'round-robin', sticky: true });
  process.env.RAMPART_STICKY_KEYS = 'k'.repeat(40);
  const a = await startGateway(config);
  t.after(() => a.close());
  // The second gateway rotated keys: a new key first, the old one still accepted.
  process.env.RAMPART_STICKY_KEYS = `${'n'.repeat(40)},${'k'.repeat(40)}`;
  const b = await startGateway(config);
  t.after(() => b.close());
  process.env.RAMPART_STICKY_KEYS = 'z'.repeat(40);
  const c = await startGateway(config);
  t.after(() => c.close());
  assert.ok(!a.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('RAMPART_STICKY_KEYS is not set')));

  for (let i = 0; i < 3; i++) {
    const first = await get(`${a.url}/`);
    const cookie = pair(first.setCookie!);
    const onB = await browse(b, cookie, 4);
    assert.deepEqual(countBy(onB.names), { [first.instance!]: 4 }, 'gateway b sends the client where gateway a pinned it');
    assert.equal(onB.issued, 0);
    const onC = await get(`${c.url}/`, { cookie });
    assert.ok(onC.setCookie !== null, 'gateway c, with other keys, treats the cookie as absent');
  }
  // And back: b signs with its newest key, which a does not know.
  const fromB = await get(`${b.url}/`);
  assert.ok((await get(`${a.url}/`, { cookie: pair(fromB.setCookie!) })).setCookie !== null);
});
