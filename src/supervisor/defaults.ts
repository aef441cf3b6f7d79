/**
 * Defaults of the supervision tree's fields, each with its unit. A tree as
 * written leaves out what it does not care about; resolveTree fills these in.
 */

/** Restart intensity: more than this many restarts within `period`… */
export const DEFAULT_INTENSITY = 3;
/** …milliseconds and the supervisor gives up and escalates. */
export const DEFAULT_PERIOD_MS = 5000;
/** Graceful shutdown budget of a child before it is terminated, ms. */
export const DEFAULT_SHUTDOWN_MS = 5000;
/**
 * Worker heartbeat period, ms; a child is declared hung after `misses` periods
 * without one. Every wake-up of an idle worker costs ~100 µs of CPU on a small
 * VM, so the default favours idle cost (100 idle actors ≈ 1 % of a core) over
 * detection speed (3 s); critical actors can ask for 10 ms.
 */
export const DEFAULT_HEARTBEAT_MS = 1000;
/** Heartbeat periods without a heartbeat before a child counts as hung. */
export const DEFAULT_HEARTBEAT_MISSES = 3;
/**
 * Longest a start may take, ms: launching the worker, importing the module
 * and running `init`. Generous, so a busy machine's slow boot is not a
 * failure; an `init` that never resolves is one.
 */
export const DEFAULT_INIT_TIMEOUT_MS = 30_000;
/** Longest a single handler may run, ms; 0 = no deadline. */
export const DEFAULT_DEADLINE_MS = 0;
/**
 * Times a message may be handed to the next incarnation after crashing its
 * actor before it is dead-lettered as poison. 0, as in OTP and Akka: one bad
 * message costs one restart, and the messages queued behind it still survive.
 */
export const DEFAULT_MAX_REDELIVERIES = 0;
/** Restart backoff: how far each delay is stretched at random, as a fraction of it (0.2 = up to 20 % longer). */
export const DEFAULT_BACKOFF_RANDOM_FACTOR = 0.2;
/** Restart backoff: an incarnation up this long starts the doubling over from `min`, ms. */
export const DEFAULT_BACKOFF_RESET_AFTER_MS = 30_000;
/** Pool actors: threads kept alive when idle, and how long an idle extra thread lives, ms. */
export const DEFAULT_POOL_MIN_THREADS = 1;
export const DEFAULT_POOL_IDLE_TIMEOUT_MS = 30_000;
/** Pool actors: tasks queued per thread at most (beyond that the pool stops taking mail). */
export const DEFAULT_POOL_QUEUE_PER_THREAD = 16;
/** Data-area size of each ring into a child's inbox, bytes. */
export const DEFAULT_CHILD_RING_BYTES = 256 * 1024;
/** Waiting messages a child's mailbox holds at most; 0 = bounded only by its rings' bytes. */
export const DEFAULT_MAILBOX_CAPACITY = 0;
