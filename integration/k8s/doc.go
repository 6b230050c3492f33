// Package k8s is the Kubernetes end-to-end test (build tag k8s, run by
// `make test-k8s`): a real single node — etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet, kube-proxy and
// containerd — inside private network and mount namespaces, netsteer
// installed by its DaemonSet from conf/kubernetes, and checks of what the
// API server and the node's kernel report.
package k8s
