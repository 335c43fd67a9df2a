/**
 * Opening a WebSocket, for the page's Web PubSub link (static/link/webpubsub-link.js): a socket that
 * closes before it opens is a refusal, turned into an Error that carries the close code and reason.
 */

/**
 * Resolves with the socket once it is open; rejects when it closes first.
 * @param {WebSocket} ws
 * @returns {Promise<WebSocket>}
 */
export function whenOpen(ws) {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener(
      'close',
      (event) =>
        reject(
          new Error(
            `The service refused the connection (${event.code}${event.reason ? `: ${event.reason}` : ''}).`,
          ),
        ),
      { once: true },
    );
  });
}
