/** Piscina task: hands the tick back, so a run() is one request and one response like a ping-pong. */
import type { Tick } from '../lib/payload.js';

export default function echo(t: Tick): Tick {
  return t;
}
