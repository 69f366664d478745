export { CLUSTER_SCRIPT, clusterUnavailable, startCluster, type TestCluster, type CommandResult } from './cluster';
