// Command nst-echo is the test workload of the Kubernetes test: a small HTTP
// server that reports who called it, and that also acts as the in-pod
// client, so the test needs neither an image registry nor `kubectl exec`.
//
//	GET /            -> {"remote":"<ip>:<port>","host":"<hostname>"}
//	GET /fetch?url=U -> the body of GET U, made from inside this pod
//	GET /sysctl?key=net.ipv4.tcp_fin_timeout -> the value in this pod's netns
//
// With -get URL it is a one-shot client instead (used from the node's and
// the outside namespace).
//
// Build it static (CGO_ENABLED=0): the image holds nothing but this file.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "address to serve on")
	get := flag.String("get", "", "act as a client: GET this URL, print the body, exit non-zero on failure")
	flag.Parse()
	if *get != "" {
		os.Exit(fetch(*get))
	}
	host, _ := os.Hostname()
	// A new connection per fetch: a kept-alive one would stick to the
	// Service backend its first request was balanced to.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"remote": r.RemoteAddr, "host": host})
	})
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(r.URL.Query().Get("url"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, io.LimitReader(resp.Body, 1<<20))
	})
	mux.HandleFunc("/sysctl", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		if !strings.HasPrefix(key, "net.") || strings.Contains(key, "/") || strings.Contains(key, "..") {
			http.Error(w, fmt.Sprintf("key %q: only net.* keys", key), http.StatusBadRequest)
			return
		}
		v, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/")))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Write(v)
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	// PID 1 in its pod: the kernel drops signals without a handler.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "nst-echo:", err)
		os.Exit(1)
	}
}

func fetch(url string) int {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nst-echo:", err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "nst-echo:", url, resp.Status)
		return 1
	}
	return 0
}
