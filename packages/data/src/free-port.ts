// A free TCP port on loopback: listen on port 0, read the port the kernel
// chose, close. It is free when we close it, not necessarily when the server
// we start binds it; callers that can retry on "address in use" do.
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
