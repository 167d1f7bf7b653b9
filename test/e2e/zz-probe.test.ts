import { test } from 'node:test';
import net from 'node:net';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig } from '../helpers/config.ts';
test('probe request after 400', async (t) => {
  const urls: string[] = [];
  const upstream = await startUpstream((req, res) => { urls.push(req.url!); res.end('x'); });
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayConfig([upstream.url], { access: false }));
  t.after(() => gw.close());
  for (let i = 0; i < 200; i++) {
    await new Promise<void>((resolve) => {
      const s = net.connect(gw.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => resolve());
      s.write('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n');
      const big = Buffer.alloc(200000, 'x');
      s.write(big);
      s.write('GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n');
    });
  }
  await new Promise((r) => setTimeout(r, 200));
  console.log('upstream saw', urls.length, urls.filter((u) => u === '/smuggled').length);
});
