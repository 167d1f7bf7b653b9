// The bare building block rampart is made of: node:http in, undici
// Pool.dispatch() out, no routing, no middleware, no logging. What it costs
// is the floor for rampart's own overhead.
// Usage: node undici-proxy.js <port> <backend url>
import http from 'node:http';
import { Pool } from 'undici';

const [port, origin] = process.argv.slice(2);
const pool = new Pool(origin);

// RFC 9110 §7.6.1: connection-specific fields are not forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function forwardable(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

http
  .createServer((req, res) => {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    pool.dispatch(
      { method: req.method, path: req.url, headers: forwardable(req.headers), body: hasBody ? req : null },
      {
        onRequestStart(controller) {
          // A client that goes away must not leave the upstream request running.
          res.once('close', () => {
            if (!res.writableFinished) controller.abort(new Error('client closed'));
          });
        },
        onResponseStart(controller, statusCode, headers) {
          res.writeHead(statusCode, forwardable(headers));
          res.on('drain', () => controller.resume());
        },
        onResponseData(controller, chunk) {
          if (!res.write(chunk)) controller.pause();
        },
        onResponseEnd() {
          res.end();
        },
        onResponseError(_controller, error) {
          // After the head is out, only a reset tells the client the body is cut.
          if (res.headersSent) res.destroy(error);
          else res.writeHead(502).end();
        },
      },
    );
  })
  .listen(Number(port), '127.0.0.1');
