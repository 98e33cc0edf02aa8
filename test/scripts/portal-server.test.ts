/**
 * The portals' static server (scripts/portal-server.ts, behind `npm run portals` and the browser
 * tests) against requests no browser sends: a malformed escape in the path must not stop it, and
 * a Host header other than the loopback names or the host it listens on gets 421 instead of a
 * config.js and a Content-Security-Policy naming that host. No stack needed: the URLs are made
 * from the host name, as `npm run portals` makes them.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { hostnameOf, startPortalServer, type PortalServer } from '../../scripts/portal-server.js';

/** A request sent exactly as written: path and Host header as given (fetch would normalise or refuse them). */
function raw(port: number, path: string, host?: string, address = '127.0.0.1'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: host === undefined ? {} : { host }, setHost: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    // A handler that threw never answers: fail at once rather than at the file's timeout.
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${path} in 5 s`)));
    req.end();
  });
}

const urlsFor = (hostname: string) => {
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return { apiUrl: `http://${host}:3000`, notificationUrl: `http://${host}:3002`, wsUrl: `ws://${host}:3002/ws` };
};

describe('the portals server', () => {
  let server: PortalServer;
  before(async () => {
    server = await startPortalServer({ urls: urlsFor });
  });
  after(async () => {
    await server?.stop();
  });

  it('When a path holds a malformed escape, then it answers 400 and keeps serving', async () => {
    for (const path of ['/admin/%ZZ', '/%E0%A4%A', '/admin/%', '/admin/config.js%C0']) {
      const answer = await raw(server.port, path, `127.0.0.1:${server.port}`);
      assert.equal(answer.status, 400, path);
    }
    assert.equal((await raw(server.port, '/admin/', `127.0.0.1:${server.port}`)).status, 200, 'still serving');
  });

  it('When the Host header names another host, or none, or is malformed, then it answers 421 without a page, a config or a policy naming it', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, '127.0.0.1.evil.example', 'localhost.', 'user@localhost', 'localhost/x', '2130706433', '', 'a b']) {
      for (const path of ['/admin/', '/admin/config.js', '/base/portal.css']) {
        const answer = await raw(server.port, path, host);
        assert.equal(answer.status, 421, `Host ${JSON.stringify(host)} ${path}: ${answer.status}`);
        assert.doesNotMatch(answer.body, /evil|apiUrl/);
        assert.equal(answer.headers['content-security-policy'], undefined);
      }
    }
    // No Host header at all: node refuses an HTTP/1.1 request without one before the handler sees it.
    assert.ok([400, 421].includes((await raw(server.port, '/admin/config.js', undefined)).status), 'no Host header');
  });

  it('When the Host header is localhost, 127.0.0.1 or [::1], then config.js and the policy name the stack on that host', async () => {
    for (const [host, api] of [
      [`localhost:${server.port}`, 'http://localhost:3000'],
      [`LOCALHOST:${server.port}`, 'http://localhost:3000'],
      [`127.0.0.1:${server.port}`, 'http://127.0.0.1:3000'],
      [`[::1]:${server.port}`, 'http://[::1]:3000'],
    ] as const) {
      const config = await raw(server.port, '/admin/config.js', host);
      assert.equal(config.status, 200, host);
      assert.ok(config.body.includes(`"apiUrl":"${api}"`), `${host}: ${config.body}`);
      const page = await raw(server.port, '/admin/', host);
      assert.match(String(page.headers['content-security-policy']), new RegExp(`connect-src 'self' ${api.replace(/[.[\]]/g, '\\$&')}`));
    }
  });

  it('When the server listens on another host name, then that name is accepted too, and others still are not', async () => {
    // PORTALS_HOST=127.0.0.2 (another loopback address on Linux), reached by that name.
    const named = await startPortalServer({ host: '127.0.0.2', urls: urlsFor });
    try {
      const config = await raw(named.port, '/admin/config.js', `127.0.0.2:${named.port}`, '127.0.0.2');
      assert.equal(config.status, 200);
      assert.ok(config.body.includes('"apiUrl":"http://127.0.0.2:3000"'));
      assert.equal((await raw(named.port, '/admin/config.js', `evil.example:${named.port}`, '127.0.0.2')).status, 421);
    } finally {
      await named.stop();
    }
    assert.equal(hostnameOf('Portal.Example:8080'), 'portal.example');
    assert.equal(hostnameOf('[::1]'), '::1');
    assert.equal(hostnameOf('a@b'), null);
  });
});
