import { Redis } from 'ioredis'
import { loadConfig, parseHostPorts, RedisEnv, type Cluster } from '@flash/common'
import type { Component } from './stack.ts'

// Reads the cluster's topology straight from a node: which master serves a key's slot, and whether
// the cluster is whole again (state ok on every node, three masters, every node known).

/** The cluster's node ports: REDIS_NODES, as the services read it (the fault stack's, in `make test`). */
export const REDIS_PORTS: number[] = parseHostPorts(loadConfig(RedisEnv).REDIS_NODES).map((node) => node.port)

export interface ClusterNode { id: string, port: number, role: 'master' | 'slave', failed: boolean, masterId: string | null, slots: Array<[number, number]> }

export function parseClusterNodes (text: string): ClusterNode[] {
  return text.trim().split('\n').map((line) => {
    const [id = '', addr = '', flags = '', master = '-', , , , , ...slots] = line.trim().split(' ')
    const port = Number(addr.split('@')[0]?.split(':')[1])
    return {
      id,
      port,
      role: flags.includes('master') ? 'master' : 'slave',
      failed: flags.includes('fail'),
      masterId: master === '-' ? null : master,
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => {
        const [from, to = from] = s.split('-')
        return [Number(from), Number(to)] as [number, number]
      })
    }
  })
}

export async function nodesFrom (port: number): Promise<ClusterNode[]> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await redis.connect()
    return parseClusterNodes(await redis.call('CLUSTER', 'NODES') as string)
  } finally {
    redis.disconnect()
  }
}

export async function clusterInfo (port: number): Promise<Record<string, string>> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await redis.connect()
    const text = await redis.call('CLUSTER', 'INFO') as string
    return Object.fromEntries(text.split(/\r?\n/).filter(Boolean).map((l) => l.split(':') as [string, string]))
  } finally {
    redis.disconnect()
  }
}

/** The master currently serving `key`, as the node on `askPort` sees the cluster. */
export async function masterOf (cluster: Cluster, key: string, askPort: number): Promise<ClusterNode> {
  const slot = Number(await cluster.cluster('KEYSLOT', key))
  const nodes = await nodesFrom(askPort)
  const master = nodes.find((n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b))
  if (master === undefined) throw new Error(`no master serves slot ${slot}`)
  return master
}

export const redisComponent = (port: number): Component => `redis-${port}`

/** Whole again: every node answers, sees cluster_state ok and 6 known nodes, and there are 3 masters. */
export async function clusterHealthy (ports: number[]): Promise<boolean> {
  try {
    for (const port of ports) {
      const info = await clusterInfo(port)
      if (info.cluster_state !== 'ok' || info.cluster_known_nodes !== String(ports.length)) return false
    }
    const nodes = await nodesFrom(ports[0] as number)
    return nodes.filter((n) => n.role === 'master' && !n.failed).length === 3 && nodes.every((n) => !n.failed)
  } catch {
    return false
  }
}
