import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, type Reply } from '../respond.js';
import type { Route } from '../routes.js';
import { Assets, PAGE_HEADERS } from './assets.js';
import type { LiveFeed, LiveSink } from './live-feed.js';

/**
 * The dashboard's routes: the page at `/`, its files under `/dashboard/`,
 * and the live feed at `/api/live`. All read-only: the page's buttons call
 * the token-guarded action routes like any other client.
 */
export function dashboardRoutes(feed: LiveFeed): Route[] {
  const assets = new Assets();
  const serve = async (name: string): Promise<Reply> => {
    if (!assets.has(name)) throw new HttpError(404, 'ERR_NOT_FOUND', `no dashboard file '${name}'`);
    const { body, contentType } = await assets.get(name);
    return { status: 200, text: body, contentType, headers: PAGE_HEADERS };
  };
  return [
    { method: 'GET', path: '/', action: false, handle: () => serve('index.html') },
    { method: 'GET', path: '/dashboard/:file', action: false, handle: ({ file }) => serve(file!) },
    { method: 'GET', path: '/api/live', action: false, handle: async () => ({ status: 200, stream: (req, res) => streamLive(feed, req, res) }) },
  ];
}

/** Serve one client of the live feed as Server-Sent Events until it goes away or the feed closes. */
export function streamLive(feed: LiveFeed, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // The stream is never reused for another request: when it ends the socket
    // closes with it, so a closing server has no idle socket left to wait for.
    connection: 'close',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // Frames are small and each should leave at once.
  res.socket?.setNoDelay(true);
  const sink: LiveSink = {
    write: (chunk) => void res.write(chunk),
    get backlog() {
      return res.writableLength;
    },
    end: () => res.end(),
  };
  const disconnect = feed.connect(sink);
  res.once('close', disconnect);
}
