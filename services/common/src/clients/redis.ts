import { Cluster, type ClusterOptions } from 'ioredis'
import { parseHostPorts } from '../platform/config.ts'

export function createRedisCluster (nodes: string, options: ClusterOptions = {}): Cluster {
  return new Cluster(parseHostPorts(nodes), {
    // Concurrent requests share one round trip per shard: the hot path makes one Lua call per order.
    enableAutoPipelining: true,
    // A failed-over master is found again through the cluster's slot map; commands wait meanwhile.
    slotsRefreshTimeout: 2000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    redisOptions: {
      maxRetriesPerRequest: 3,
      connectTimeout: 3000
    },
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    ...options
  })
}

export async function pingRedis (redis: Cluster): Promise<void> {
  const state = await redis.cluster('INFO') as string
  if (!/cluster_state:ok/.test(state)) throw new Error('redis cluster state is not ok')
}

export type { Cluster }
