import { expect } from 'chai';
import { hostGuard, hostOf, invalidHostEntry } from '../../src/http/host-guard.js';

describe('the Host header guard (DNS rebinding)', () => {
  it('reads the host of a Host header: port stripped, IPv6 in brackets, case and a final dot folded', () => {
    expect(hostOf('localhost:9464')).to.equal('localhost');
    expect(hostOf('LocalHost')).to.equal('localhost');
    expect(hostOf('box.example.:80')).to.equal('box.example');
    expect(hostOf('127.0.0.1:1')).to.equal('127.0.0.1');
    expect(hostOf('[::1]:9464')).to.equal('[::1]');
    expect(hostOf('[0:0:0:0:0:0:0:1]')).to.equal('[::1]');
    expect(hostOf('localhost:')).to.equal('localhost');
  });

  it('takes a malformed or missing Host header for no host at all', () => {
    for (const bad of [undefined, '', '::1', 'a b', 'evil.example@localhost', 'localhost/x', 'localhost:9464:1', '[::1', 'localhost:123456', '%6cocalhost']) {
      expect(hostOf(bad), String(bad)).to.equal(null);
    }
  });

  it('bound to loopback: answers the loopback names and the bound address only', () => {
    const g = hostGuard('127.0.0.1', '127.0.0.1');
    for (const ok of ['localhost:1234', '127.0.0.1:1234', '[::1]:1234', 'LOCALHOST', 'localhost.']) expect(g.allows(ok), ok).to.equal(true);
    for (const no of ['evil.example', 'evil.example:1234', '10.0.0.5:1234', 'localhost.evil.example', undefined]) expect(g.allows(no), String(no)).to.equal(false);
    expect(g.allowed).to.equal('localhost, 127.0.0.1, [::1]');
  });

  it('answers the address it is bound to, the host it was asked to bind, and the extra names', () => {
    const g = hostGuard('10.1.2.3', 'box.lan', ['Dash.Example', '::2', '[fe80::1]']);
    for (const ok of ['10.1.2.3:80', 'box.lan', 'dash.example:9464', '[::2]', '[fe80::1]:1']) expect(g.allows(ok), ok).to.equal(true);
    for (const no of ['10.1.2.4', 'other.lan', '[::3]']) expect(g.allows(no), no).to.equal(false);
    expect(g.allowed).to.equal('localhost, 127.0.0.1, [::1], 10.1.2.3, box.lan, dash.example, [::2], [fe80::1]');
  });

  it('bound to every interface: any IP literal is allowed, names only when listed', () => {
    for (const any of ['0.0.0.0', '::']) {
      const g = hostGuard(any, any, ['dash.example']);
      for (const ok of ['192.168.1.20:9464', '[2001:db8::7]:9464', 'dash.example', 'localhost']) expect(g.allows(ok), `${any} ${ok}`).to.equal(true);
      for (const no of ['evil.example', 'box.lan:9464']) expect(g.allows(no), `${any} ${no}`).to.equal(false);
      expect(g.allowed).to.equal('localhost, 127.0.0.1, [::1], dash.example or any IP address');
    }
  });

  it('checks an allowedHosts entry: a name or an address, nothing with a scheme, port or path', () => {
    for (const ok of ['box.lan', 'BOX', '10.0.0.1', '::1', '[::1]', 'xn--bcher-kva.example']) expect(invalidHostEntry(ok), ok).to.equal(null);
    for (const bad of ['', 'http://box', 'box:9464', 'box/x', 'a b', '[box]', 'abc:80', 7]) expect(invalidHostEntry(bad), String(bad)).to.be.a('string');
  });
});
