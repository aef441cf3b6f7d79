/**
 * The system-wide defaults, in one leaf module: the options schema, the
 * config loader and the runtime read them from here, so validating a file
 * loads no part of the runtime.
 */

/** Default timeout of an `ask`, ms. */
export const DEFAULT_ASK_TIMEOUT_MS = 5000;
/** Longest delay Node's timers schedule (2^31 − 1 ms, ~24.8 days); a larger one fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** How long a send waits for room in a full ring before it gives the message up as a dead letter, ms. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;
/** Largest encoded message accepted at send, bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * How long an idle consumer keeps spinning before it parks, in microseconds.
 * Waking a parked thread costs ~40-50 µs here; spinning this long after the
 * last frame keeps a steady stream (10k msg/s arrive every 100 µs) on the
 * fast path, while an idle consumer parks and uses no CPU.
 */
export const DEFAULT_SPIN_MICROS = 200;
/** Longest spin a receiver may be configured with, µs. */
export const MAX_SPIN_MICROS = 50_000;
/** Most threads a process's spin budget can let spin at once. */
export const MAX_SPINNERS = 256;
/** Sender slots of each inbox: distinct (sender, lane) pairs that may write to one actor. */
export const DEFAULT_INBOX_SENDER_SLOTS = 256;
/** Dead letters kept for inspection (the count goes on past it). */
export const DEFAULT_DEAD_LETTER_LIMIT = 1000;
/** How long a sender waits at a full `backpressure` mailbox before the message is dead-lettered, ms. */
export const DEFAULT_MAILBOX_WAIT_MS = 10_000;
/**
 * The smallest `maxMessageBytes` there can be, bytes: the Codec refuses a
 * smaller limit (src/codec/envelope.ts checks the same number).
 */
export const MIN_MAX_MESSAGE_BYTES = 16;
/**
 * The most sender slots an inbox can have: each is a bit of the doorbell's
 * READY bitmap, which the receiver scans on every wake-up (4096 rings = 128
 * words). createDoorbell refuses more (MAX_SENDER_SLOTS in src/ring/layout.ts
 * is the same number).
 */
export const MAX_INBOX_SENDER_SLOTS = 4096;
/** pino's levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Level of the system's and every actor's logger unless set. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
/** How long a persistent actor's first connection to NATS may take (the jetstream backend), ms. */
export const DEFAULT_JETSTREAM_CONNECT_TIMEOUT_MS = 5000;
/** How long one JetStream request of the jetstream backend (an append's acknowledgement, a read) may take, ms. */
export const DEFAULT_JETSTREAM_TIMEOUT_MS = 5000;
/** Most replicas of a JetStream stream (the server's own limit). */
export const MAX_JETSTREAM_REPLICAS = 5;

/** An actor's event-loop utilisation is the share of the last window of at least this long its loop was busy, ms. */
export const ELU_WINDOW_MS = 1000;

/** Messages each actor's flight recorder keeps by default (their metadata: kind, sender, topic, size, times). */
export const DEFAULT_RECORDER_ENTRIES = 32;
/** Most entries one actor's flight recorder may keep. */
export const MAX_RECORDER_ENTRIES = 4096;
/** Most payload bytes a flight recorder entry may keep (`flightRecorder.payloadBytes`; 0, the default, keeps none). */
export const MAX_RECORDER_PAYLOAD_BYTES = 4096;

/** How often a cluster node publishes its heartbeat, ms. */
export const DEFAULT_CLUSTER_HEARTBEAT_MS = 1000;
/** Heartbeats a cluster node may miss in a row before the others count it down. */
export const DEFAULT_CLUSTER_MISSES = 3;
/** Most heartbeats a node may be allowed to miss. */
export const MAX_CLUSTER_MISSES = 100;
