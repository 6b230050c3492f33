// Command nst-pause is the sandbox ("pause") process of the containerd
// end-to-end test: it holds the pod's namespaces open and does nothing until
// SIGTERM or SIGINT. It runs as PID 1 in its PID namespace, where the kernel
// drops signals that have no handler, so it must install one to be stoppable.
// Build it static (CGO_ENABLED=0): the image holds nothing but this file.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
