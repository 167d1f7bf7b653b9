// A tiny upstream for `rampart demo` and examples/up.yaml: says which instance
// answered and what the gateway told it about the client, so the tour can show
// balancing and forwarding headers at work.
import http from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const instance = process.env.INSTANCE ?? process.env.RAMPART_INSTANCE_ID ?? String(port);

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  const body = JSON.stringify(
    {
      instance,
      method: req.method,
      url: req.url,
      forwardedFor: req.headers['x-forwarded-for'] ?? null,
      forwarded: req.headers.forwarded ?? null,
      via: req.headers.via ?? null,
    },
    null,
    2,
  );
  res.writeHead(200, { 'content-type': 'application/json', 'x-instance': instance }).end(body + '\n');
});
server.listen(port, '127.0.0.1', () => process.send?.({ ready: port }));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
