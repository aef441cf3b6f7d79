import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ConfigFlags } from '../config/index.js';

export const EXIT_OK = 0;
/** The command ran and the answer is no: invalid config, unreachable system, refused rollback. */
export const EXIT_FAILURE = 1;
/** The command could not run as typed: unknown command or flag, missing argument or file. */
export const EXIT_USAGE = 2;
/** A second stop signal cut a graceful stop short (128 + SIGINT, as shells report it). */
export const EXIT_FORCED = 130;

export class UsageError extends Error {
  readonly command: string;
  constructor(command: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** The flags that override a config file; every command that reads one takes them. */
export const CONFIG_OPTIONS = {
  name: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string' },
  'allowed-hosts': { type: 'string' },
  'log-level': { type: 'string' },
  pretty: { type: 'boolean' },
  'persistence-path': { type: 'string' },
  'cluster-node': { type: 'string' },
  'cluster-servers': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true; allowNegative: true }>>;

/** Strict parsing: an unknown flag, a missing value or a stray argument is a UsageError naming it. */
export function parse<O extends Options>(command: string, args: string[], options: O, maxPositionals: number): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true, allowNegative: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS')) throw err;
    const unknown = /Unknown option '([^']+)'/.exec(e.message);
    throw new UsageError(command, unknown ? `unknown option '${unknown[1]}'` : (e.message.split('. ', 1)[0] ?? e.message));
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(command, `unexpected argument '${parsed.positionals[maxPositionals]}'`);
  return parsed;
}

/** The config-override flags as the loader takes them. */
export function configFlags(values: Record<string, string | boolean | (string | boolean)[] | undefined>): ConfigFlags {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const flags: ConfigFlags = {};
  if (str('name') !== undefined) flags.name = str('name');
  if (str('host') !== undefined) flags.host = str('host');
  if (str('port') !== undefined) flags.port = str('port');
  if (str('token') !== undefined) flags.token = str('token');
  if (str('allowed-hosts') !== undefined) flags.allowedHosts = str('allowed-hosts');
  if (str('log-level') !== undefined) flags.logLevel = str('log-level');
  if (typeof values.pretty === 'boolean') flags.pretty = values.pretty;
  if (str('persistence-path') !== undefined) flags.persistencePath = str('persistence-path');
  if (str('cluster-node') !== undefined) flags.clusterNode = str('cluster-node');
  if (str('cluster-servers') !== undefined) flags.clusterServers = str('cluster-servers');
  return flags;
}

export function requireFile(command: string, positionals: string[]): string {
  const file = positionals[0];
  if (file === undefined) throw new UsageError(command, 'missing the config file argument (a .yaml, .yml or .json file)');
  return file;
}

const CONFIG_FLAGS_HELP = `Config overrides (each beats the environment, which beats the file):
  --name <name>          system name                (RINGMASTER_NAME)
  --host <address>       HTTP listen address         (RINGMASTER_HTTP_HOST)
  --port <port>          HTTP port; 0 = any free one  (RINGMASTER_HTTP_PORT)
  --token <token>        bearer token for actions    (RINGMASTER_HTTP_TOKEN)
  --allowed-hosts <a,b>  more names the Host header may carry (RINGMASTER_HTTP_ALLOWED_HOSTS)
  --log-level <level>    fatal|error|warn|info|debug|trace|silent (RINGMASTER_LOG_LEVEL)
  --pretty, --no-pretty  human-readable log lines    (RINGMASTER_LOG_PRETTY)
  --persistence-path <file>  the journal database; relative to the config file's folder
                         (RINGMASTER_PERSISTENCE_PATH)
  --cluster-node <name>  this node's name in its cluster (RINGMASTER_CLUSTER_NODE)
  --cluster-servers <a,b>  the cluster's NATS servers (RINGMASTER_CLUSTER_SERVERS)`;

export const HELP: Record<string, string> = {
  main: `Usage: ringmaster <command> [options]

Commands:
  start <file>               start the system a config file describes, serve HTTP, hot-reload the file
  validate <file>            check a config file; every problem with its line
  config --print <file>      the merged configuration and where each value came from
  config rollback [version]  ask a running system to go back to an earlier config version
  status                     the live tree of a running system
  dead-letters [list|show|replay]  the stored dead letters of a running system
  alerts                     the alert rules of a running system and their state
  alerts --prometheus <file> a config file's alert rules as a Prometheus rules file
  bench                      run the benchmarks

Run 'ringmaster <command> --help' for a command's options.
Exit codes: 0 ok, 1 failed (invalid config, unreachable system, …), 2 usage error, 130 forced stop.`,
  start: `Usage: ringmaster start <file> [options]

Starts the system, the HTTP endpoints (if the config has an http section or
--port), and watches the file: valid changes are applied live, invalid ones
rejected. SIGINT, SIGTERM or SIGHUP stops it gracefully (exit 0, or 1 if the
stop fails), also while it is still starting; under npm (npx, an npm script)
so does the loss of the process that started it. A second signal during the
stop forces exit 130 (the same signal within half a second of the first
counts as the first: npm passes the terminal's Ctrl-C on again). If the
system stops by itself (an escalation at the root) it exits 1.

${CONFIG_FLAGS_HELP}`,
  validate: `Usage: ringmaster validate <file> [options]

Checks the file merged with the environment and flags, without starting
anything: each actor's module and the tracing.setup module are loaded in a
throw-away worker, as a start would load them. Exit 0 with an OK line, or 1
with every problem (where, field, why).

${CONFIG_FLAGS_HELP}`,
  config: `Usage: ringmaster config --print <file> [--json] [options]
       ringmaster config rollback [version] [--url <url>] [--token <token>]

--print     the merged configuration, one value a line, with where it came
            from (default, file:line, env NAME, flag --x); --json for JSON.
            Secrets (http.token) are redacted.
rollback    POST <url>/api/config/rollback on a running system: re-apply
            version [version] (default: the one before the current one).
            --url defaults to http://127.0.0.1:9464; --token to
            $RINGMASTER_HTTP_TOKEN.

${CONFIG_FLAGS_HELP}`,
  status: `Usage: ringmaster status [--url <url>]

Shows the running tree: each actor's state, incarnation, restarts, inbox
depth and message rate (handled per second, as the server measured it over
its latest one-second sample; '?' in the first second), indented by
supervisor, from one request to GET /api/tree. --url defaults to
http://127.0.0.1:9464.`,
  alerts: `Usage: ringmaster alerts [--url <url>]
       ringmaster alerts --prometheus <file>

Without --prometheus: the alert rules of a running system, firing first,
with state (inactive, pending, firing), since when, the last value read and
the condition, from one request to GET /api/alerts. --url defaults to
http://127.0.0.1:9464.
--prometheus: the \`alerts:\` rules of a config file as a Prometheus
alerting-rules file on stdout (for rule_files; \`promtool check rules\`
accepts it); a rule the exported metrics cannot express is skipped, named
on stderr. See docs/observability.md#alerts.`,
  'dead-letters': `Usage: ringmaster dead-letters [list] [--actor <id>] [--since <time>] [--limit <n>] [--json] [--url <url>]
       ringmaster dead-letters show <id> [--url <url>]
       ringmaster dead-letters replay [id] [--actor <id>] [--since <time>] [--token <token>] [--url <url>]

The dead letters a running system keeps in its database (persistence.deadLetters:
true), newest first. --since takes an ISO time or epoch ms. replay sends the
matching ones not replayed yet to their receivers again (as tells from the
system) and marks them replayed; it needs the HTTP token (--token or
$RINGMASTER_HTTP_TOKEN). --url defaults to http://127.0.0.1:9464.`,
  bench: `Usage: ringmaster bench

Runs every benchmark (node dist/bench/run-all.js) and exits with its code.`,
};
