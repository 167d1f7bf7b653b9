// node-http-proxy (npm `http-proxy`) as its README sets it up, plus a
// keep-alive agent: without one it sends `Connection: close` upstream.
// Usage: node node-http-proxy.js <port> <backend url>
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, target] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
const proxy = httpProxy.createProxyServer({ target, agent });
proxy.on('error', (error, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502).end();
  else res.destroy(error);
});
http.createServer((req, res) => proxy.web(req, res)).listen(Number(port), '127.0.0.1');
