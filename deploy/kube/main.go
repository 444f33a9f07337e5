// Command etcd is etcd's own server, built from its module for the tests'
// Kubernetes control plane (internal/testing/kube): no image registry is
// reachable, the Go module proxy is.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
