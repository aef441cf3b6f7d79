/**
 * The message every transport carries: a market tick of about 100 bytes once
 * msgpack-encoded inside a ringmaster envelope. `ts` is the sender's clock
 * (see clock.ts) at the moment it hands the message to the transport.
 */
export interface Tick {
  sym: string;
  px: number;
  qty: number;
  side: 'buy' | 'sell';
  venue: string;
  acct: string;
  seq: number;
  ts: number;
}

export function tick(seq: number, ts: number): Tick {
  return { sym: 'BTCUSD', px: 64123.5, qty: 0.25, side: 'buy', venue: 'COINBASE', acct: 'A-7731', seq, ts };
}
