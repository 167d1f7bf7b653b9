import { request } from 'node:http';

/**
 * One GET through the tool before any load: a proxy that answers 404 or a
 * truncated body would otherwise post flattering numbers.
 */
export function checkServes(port: number, path: string, bytes: number, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let length = 0;
      res.on('data', (chunk: Buffer) => (length += chunk.length));
      res.on('end', () => {
        if (res.statusCode === 200 && length === bytes) resolve();
        else reject(new Error(`GET ${path} gave ${res.statusCode} with ${length} bytes, expected 200 with ${bytes}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
