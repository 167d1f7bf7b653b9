// Fastify 5 + @fastify/http-proxy with their defaults (undici pool upstream).
// Usage: node fastify-http-proxy.js <port> <backend url>
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [port, upstream] = process.argv.slice(2);
const app = Fastify({ logger: false });
await app.register(proxy, { upstream });
await app.listen({ port: Number(port), host: '127.0.0.1' });
