// Every help text of the command, in one light module: `rampart --help`
// and `rampart <command> --help` answer without loading the gateway.

export const HELP = `rampart: take a web application from one server to many, securely.

Usage: rampart <command> [options]

Commands:
  gateway   run the gateway from a config file           rampart gateway -c rampart.yaml
  check     validate a config file, print every problem  rampart check -c rampart.yaml
  demo      the gateway in front of three demo servers   rampart demo

Options:
  -h, --help     help for rampart or for a command (rampart gateway --help)
  -v, --version  print the version

Docs: docs/config.md (every config key), docs/ARCHITECTURE.md (how a request flows).
`;

export const GATEWAY_HELP = `Usage: rampart gateway -c <file>

Runs the gateway from a YAML config file (see docs/config.md).

Signals:
  SIGHUP           reload the config file (so does saving it)
  SIGTERM, SIGINT  graceful shutdown: stop accepting, finish in-flight requests
                   within shutdownGrace, exit 0

A config file that fails validation is refused with every problem listed;
at start the command exits 2, on reload the running config stays in force.

Exit codes: 0 after a graceful shutdown, 1 when a listener cannot open (or
on a second SIGTERM/SIGINT, which skips the grace period), 2 for a config
file that fails validation.

Options:
  -c, --config <file>  the YAML config file (default: rampart.yaml)
      --no-watch       do not reload when the file changes
`;

export const CHECK_HELP = `Usage: rampart check -c <file>

Validates a gateway config file and prints every problem with its key path.
Exits 0 when the file is valid, 1 when it is not.

Options:
  -c, --config <file>  the YAML config file (default: rampart.yaml)
`;

export const DEMO_HELP = `Usage: rampart demo [--port 8080] [--admin 127.0.0.1:9901] [--instances 3]

Starts demo app servers on free loopback ports and the gateway in front of
them, round-robin. Open http://localhost:8080/ and reload: each answer names
the instance that served it. Admin: http://127.0.0.1:9901/status, /metrics.

Options:
  --port <port>        gateway port (default 8080)
  --admin <host:port>  admin listener (default 127.0.0.1:9901)
  --instances <n>      demo servers to start (default 3)
`;
