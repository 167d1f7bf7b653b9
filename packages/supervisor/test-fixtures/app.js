// A tiny HTTP app for the supervisor's tests, run as a real child process.
// Behaviour comes from the environment:
//   PORT              where to listen (set by the supervisor)
//   DELAY_MS          how long GET / takes, so in-flight requests build up (default 0)
//   READY_AFTER_MS    /healthz answers 503 until this long after start (default 0)
//   NEVER_READY=1     /healthz always answers 503
//   EXIT_AT_START=N   exit with code N before listening (a crash loop)
//   IGNORE_SIGTERM=1  keep running on SIGTERM (the supervisor must SIGKILL)
//   GREETING          echoed in GET / (shows which command/env an instance runs)
import http from 'node:http';

const started = Date.now();
const env = process.env;
if (env.EXIT_AT_START) process.exit(Number(env.EXIT_AT_START));

const delay = Number(env.DELAY_MS ?? 0);
const readyAfter = Number(env.READY_AFTER_MS ?? 0);

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    const ready = env.NEVER_READY !== '1' && Date.now() - started >= readyAfter;
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok' : 'starting');
    return;
  }
  const body = JSON.stringify({ pid: process.pid, id: env.RAMPART_INSTANCE_ID, greeting: env.GREETING ?? null, extra: env.EXTRA ?? null });
  const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  if (delay > 0) setTimeout(send, delay);
  else send();
});
// Longer than any test: the balancer's idle keep-alive sockets must not be
// closed under it by the server's 5 s default while a test runs.
server.keepAliveTimeout = 60_000;

process.on('SIGTERM', () => {
  console.log('SIGTERM received');
  if (env.IGNORE_SIGTERM === '1') return;
  // Finish in-flight requests, close idle keep-alive sockets, then exit 0.
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

server.listen(Number(env.PORT), '127.0.0.1', () => {
  console.log(`listening on ${env.PORT}`);
  console.error(`stderr line from ${env.RAMPART_INSTANCE_ID}`);
});
