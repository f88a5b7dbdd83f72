/**
 * ProcessCluster.start when a node's port is taken between freePort and the node's listen (another
 * test running beside it): the node exits before it registers, and the cluster must not come up
 * without it while its URL reaches the other process. CI saw exactly that once: every request to
 * node 1 met a socket closed by whatever held its port.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';

import { freePort, freePorts } from '../helpers/ports.js';
import { ProcessCluster } from '../helpers/process-cluster.js';

describe('ProcessCluster.start with a port taken by another process', () => {
  let cluster: ProcessCluster | undefined;
  let squatter: Server | undefined;
  after(async () => {
    await cluster?.destroy();
    await new Promise((r) => (squatter ? squatter.close(r) : r(undefined)));
  });

  it('moves the node that could not listen to new ports, and starts it again', async () => {
    // A listener that closes every connection at once, on the first port handed out (node 1's HTTP).
    squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter!.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as { port: number }).port;
    let first = true;
    const ports = async () => {
      if (!first) return freePort();
      first = false;
      return taken;
    };
    cluster = await ProcessCluster.start({ nodes: 3, ports });
    const one = cluster.node(1);
    assert.ok(one.running, 'node 1 runs');
    assert.notEqual(one.httpPort, taken);
    const res = await one.get<{ node_uid: number }>('/v1/cluster');
    assert.equal(res.status, 200);
    assert.equal(res.body.node_uid, 1);
  });
});

describe('freePort', () => {
  it('hands out ports below the ephemeral range, where no outgoing connection takes them', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const ports = [...(await freePorts(20)), await freePort()];
    for (const port of ports) assert.ok(port < Number(low), `${port} is below ${low}`);
  });

  it('never hands out one port twice in a process', async () => {
    const ports = [...(await freePorts(50)), ...(await freePorts(50))];
    assert.equal(new Set(ports).size, ports.length);
  });
});
