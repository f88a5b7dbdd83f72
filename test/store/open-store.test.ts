import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

import { InvalidRequestError } from '../../src/store/errors.js';
import { openStore, parseStoreUrl } from '../../src/store/open-store.js';

void describe('store URLs', () => {
  void it('parses SQLite locations: scheme, URL form, relative and bare paths', () => {
    assert.deepEqual(parseStoreUrl('sqlite:/var/lib/bosun/store.db'), {
      backend: 'sqlite',
      path: '/var/lib/bosun/store.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:///var/lib/bosun/store.db'), {
      backend: 'sqlite',
      path: '/var/lib/bosun/store.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:data/store.db'), {
      backend: 'sqlite',
      path: resolve('data/store.db'),
    });
    assert.deepEqual(parseStoreUrl('/tmp/x.db'), { backend: 'sqlite', path: '/tmp/x.db' });
    assert.deepEqual(parseStoreUrl('x.db'), { backend: 'sqlite', path: resolve('x.db') });
  });

  void it('parses etcd endpoints and the optional prefix', () => {
    assert.deepEqual(parseStoreUrl('etcd://127.0.0.1:2379'), {
      backend: 'etcd',
      endpoints: ['127.0.0.1:2379'],
      namespace: undefined,
      tls: false,
    });
    assert.deepEqual(parseStoreUrl('etcds://10.0.0.5:2379,10.0.0.6:2379?prefix=/p'), {
      backend: 'etcd',
      endpoints: ['10.0.0.5:2379', '10.0.0.6:2379'],
      namespace: '/p',
      tls: true,
    });
    assert.deepEqual(parseStoreUrl('etcd://a:1,b:2, c:3/?prefix=/bosun/prod'), {
      backend: 'etcd',
      endpoints: ['a:1', 'b:2', 'c:3'],
      namespace: '/bosun/prod',
      tls: false,
    });
    assert.deepEqual(parseStoreUrl('etcd://[::1]:2379?prefix=%2Fx'), {
      backend: 'etcd',
      endpoints: ['[::1]:2379'],
      namespace: '/x',
      tls: false,
    });
  });

  void it('rejects what it cannot open', () => {
    for (const bad of ['', 'sqlite:', 'etcd://', 'etcd://host', 'etcd://a:1?timeout=3', 'redis://x:1']) {
      assert.throws(() => parseStoreUrl(bad), InvalidRequestError, bad);
    }
  });

  void it('opens the embedded backend from a URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-open-store-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const store = await openStore(`sqlite:${join(dir, 'nested', 'store.db')}`);
    try {
      assert.equal(store.profile.name, 'sqlite');
      const res = await store.txn({ compare: [], success: [{ type: 'put', key: '/k', value: 'v' }] });
      assert.equal((await store.get('/k'))?.modRevision, res.revision);
    } finally {
      await store.close();
    }
  });
});
