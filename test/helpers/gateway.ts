// An in-process gateway on port 0 with its log lines captured.
import { Writable } from 'node:stream';
import { Gateway, parseConfig, createLogger } from '../../packages/gateway/src/index.ts';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly port: number;
  readonly url: string;
  readonly adminUrl: string;
  /** Parsed JSON log lines, in order. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startGateway(yaml: string): Promise<TestGateway> {
  const logs: Record<string, unknown>[] = [];
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      partial += chunk.toString();
      let nl: number;
      while ((nl = partial.indexOf('\n')) !== -1) {
        logs.push(JSON.parse(partial.slice(0, nl)) as Record<string, unknown>);
        partial = partial.slice(nl + 1);
      }
      cb();
    },
  });
  const config = parseConfig(yaml, 'test.yaml');
  const gateway = await Gateway.start(config, { logger: createLogger(config.log.level, sink) });
  return {
    gateway,
    port: gateway.port,
    url: `http://127.0.0.1:${gateway.port}`,
    adminUrl: `http://127.0.0.1:${gateway.adminPort}`,
    logs,
    close: async () => {
      await gateway.close(2000);
    },
  };
}

/** The minimal config of the brief around one or more server URLs, on free ports. */
export function configFor(servers: string[], extra = ''): string {
  return `listen: "127.0.0.1:0"
admin: "127.0.0.1:0"
log: { level: info, access: true }
upstreams:
  app:
    servers: [${servers.map((s) => JSON.stringify(s)).join(', ')}]
routes:
  - path: /
    upstream: app
${extra}`;
}
