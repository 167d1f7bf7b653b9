// Every help text of the command, in one light module: `rampart --help`
// and `rampart <command> --help` answer without loading the gateway.

export const HELP = `rampart: take a web application from one server to many, securely.

Usage: rampart <command> [options]

Commands:
  up        the gateway and the app servers of run:      rampart up -c rampart.yaml
  reload    reload a running up, restart its instances   rampart reload -c rampart.yaml
  gateway   run the gateway from a config file           rampart gateway -c rampart.yaml
  check     validate a config file, print every problem  rampart check -c rampart.yaml
  purge     remove responses from the edge cache         rampart purge --prefix http://localhost:8080/
  demo      the gateway in front of three demo servers   rampart demo

Options:
  -h, --help     help for rampart or for a command (rampart gateway --help)
  -v, --version  print the version

Docs: docs/config.md (every config key), docs/ARCHITECTURE.md (how a request flows).
`;

export const UP_HELP = `Usage: rampart up -c <file>

Runs the gateway from a YAML config file (see docs/config.md) and, for every
upstream with \`run:\`, instances of its command: each on a free loopback port
(PORT), in the balancer once its health path answers, out of it at once when
it crashes (restarted with backoff, on a new port), drained before it stops,
scaled between autoscale.min and autoscale.max on the requests in flight per
instance. Their stdout and stderr are logged with the instance id.

  upstreams:
    app:
      run: { command: "node server.js", instances: 3 }
      health: { path: /healthz }

Signals:
  SIGHUP           reload the config file and replace every instance, one at
                   a time (new ready, old drained, then stopped): what
                   \`rampart reload\` sends. Saving the file reloads it too, and
                   replaces the instances only when their command, cwd or env
                   changed. A file that fails validation is refused: the
                   running config and instances stay
  SIGTERM, SIGINT  graceful shutdown: stop accepting, finish in-flight requests
                   within shutdownGrace, stop the instances, exit 0

Admin listener: GET /status lists the instances (with their PIDs) and the
autoscaler's state; POST /upstreams/<name>/restart replaces the instances of
one upstream and answers when done.

The process id is written to .rampart/<file name>.pid beside the config file,
where \`rampart reload\` finds it.

Exit codes: 0 after a graceful shutdown, 1 when a listener cannot open or the
file already runs, 2 for a config file that fails validation.

Options:
  -c, --config <file>  the YAML config file (default: rampart.yaml)
      --no-watch       do not reload when the file changes
`;

export const RELOAD_HELP = `Usage: rampart reload -c <file>

Tells the \`rampart up\` that runs <file> to reload it and to replace every
instance of its run: upstreams one at a time, without a failed request. It
sends SIGHUP to the process recorded in .rampart/<file name>.pid beside the
config file and returns; the log of \`rampart up\` shows the progress, and
GET /status on its admin listener the new instances.

Exits 0 once the signal is sent, 1 when no \`rampart up\` runs that file.

Options:
  -c, --config <file>  the YAML config file (default: rampart.yaml)
`;

export const GATEWAY_HELP = `Usage: rampart gateway -c <file>

Runs the gateway from a YAML config file (see docs/config.md), in front of
servers that already run. An upstream with \`run:\` (servers that rampart
starts) needs \`rampart up\`; this command refuses it.

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

Validates a gateway config file and prints every problem with its key path,
including the commands of \`run:\` that cannot run here (an unknown program,
a missing cwd, a shell line the supervisor refuses).
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

export const PURGE_HELP = `Usage: rampart purge (--url <url> | --prefix <url> | --tag <tag> | --all) [-c <file> | --admin <host:port>]

Removes stored responses from the edge cache of a running gateway, through
its admin listener (POST /cache/purge). Every variant of a URL goes (all
Vary values, all key headers and cookies). With the Redis store, a purge
reaches every gateway that shares it.

  rampart purge --url http://localhost:8080/flights/42
  rampart purge --prefix http://localhost:8080/static/
  rampart purge --tag departures      (responses sent with Cache-Tag or Surrogate-Key: departures)
  rampart purge --all

Exits 0 with the number of responses removed, 1 when the admin listener
cannot be reached or refuses the request, 2 for bad options.

Options:
      --url <url>        one URL (http://host/path?query; /path?query when routes leave the host out of the key)
      --prefix <url>     every URL that starts with this
      --tag <tag>        every response carrying this tag
      --all              everything the cache holds
  -c, --config <file>    read the admin address from this file's admin: key (default: rampart.yaml)
      --admin <host:port>  the admin listener (default: from the file, else 127.0.0.1:9901)
`;
