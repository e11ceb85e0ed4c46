#!/bin/bash
# usage: scripts/etcd-ranges-per-write.sh LABEL KUBE_LEDGER_BINARY N
# Starts etcd (loopback ports 23791/23801) and the server in /tmp/etcdperf/LABEL, sends N ConfigMap
# creates, patches and deletes through the Python client, and prints the etcd range and Txn
# requests etcd counted over them (docs/performance.md, "etcd reads per write").
set -u
LABEL=$1; BIN=$2; N=${3:-300}
D=/tmp/etcdperf/$LABEL; rm -rf $D; mkdir -p $D
etcd --data-dir $D/etcd --listen-client-urls http://127.0.0.1:23791 \
     --advertise-client-urls http://127.0.0.1:23791 --listen-peer-urls http://127.0.0.1:23801 \
     > $D/etcd.log 2>&1 &
EPID=$!
sleep 2
$BIN --listen 127.0.0.1:17011 --data-dir $D/kl --etcd-servers http://127.0.0.1:23791 --etcd-prefix /kl > $D/server.log 2>&1 &
SPID=$!
for i in $(seq 1 90); do [ -f $D/kl/kubeconfig ] && curl -sk https://127.0.0.1:17011/readyz 2>/dev/null | grep -q ok && break; sleep 1; done
sleep 3
m() { curl -s http://127.0.0.1:23791/metrics | awk -v k="$1" '$1==k {print $2}'; }
python3 - $D/kl/kubeconfig $N <<'PY'
import sys
from kubernetes import client, config
config.load_kube_config(sys.argv[1]); v1 = client.CoreV1Api(); n = int(sys.argv[2])
v1.create_namespace({"metadata": {"name": "warm"}})
PY
sleep 2
R0=$(m etcd_debugging_mvcc_range_total); T0=$(m etcd_debugging_mvcc_txn_total); P0=$(m etcd_debugging_mvcc_put_total)
python3 - $D/kl/kubeconfig $N <<'PY'
import sys
from kubernetes import client, config
config.load_kube_config(sys.argv[1]); v1 = client.CoreV1Api(); n = int(sys.argv[2])
for i in range(n):
    v1.create_namespaced_config_map("default", {"metadata": {"name": f"c{i}"}, "data": {"a": "1"}})
for i in range(n):
    v1.patch_namespaced_config_map(f"c{i}", "default", {"data": {"a": "2"}})
for i in range(n):
    v1.delete_namespaced_config_map(f"c{i}", "default")
PY
sleep 3
R1=$(m etcd_debugging_mvcc_range_total); T1=$(m etcd_debugging_mvcc_txn_total)
echo "$LABEL: $N creates+updates+deletes: etcd ranges $(python3 -c "print(int(float('$R1'))-int(float('$R0')))"), txns $(python3 -c "print(int(float('$T1'))-int(float('$T0')))")"
kill $SPID; wait $SPID 2>/dev/null; kill $EPID; wait $EPID 2>/dev/null
