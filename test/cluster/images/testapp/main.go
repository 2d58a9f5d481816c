// Command testapp is the one program of the cluster's test image: a static binary (no base image can
// be pulled here) that serves HTTP, or prints and exits, so tests can make healthy and failing pods.
//
//	testapp            serve HTTP on $PORT (8080): every path answers "ok <hostname>" (only $PATHS, comma-separated, when set; others 404)
//	testapp alloc MIB  touch MIB MiB of memory, then block until SIGTERM (a pod killed at its memory limit)
//	testapp exit N MSG print MSG on stdout and stderr, then exit with code N (a crash loop, a Job)
//	testapp sleep      block until SIGTERM
//	testapp get URL    print the body of URL, exit 1 if it cannot be fetched (DNS and Service checks)
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		serve()
		return
	}
	switch args[0] {
	case "exit":
		code := 0
		if len(args) > 1 {
			code, _ = strconv.Atoi(args[1])
		}
		msg := "testapp exiting"
		if len(args) > 2 {
			msg = args[2]
		}
		fmt.Fprintln(os.Stdout, msg)
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(code)
	case "sleep":
		waitForSignal()
	case "alloc":
		mib := 64
		if len(args) > 1 {
			mib, _ = strconv.Atoi(args[1])
		}
		fmt.Printf("testapp allocating %d MiB\n", mib)
		// Written page by page so the memory is really resident (what the cgroup counts), not just reserved.
		held := make([][]byte, 0, mib)
		for i := 0; i < mib; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			held = append(held, b)
		}
		fmt.Printf("testapp holding %d MiB\n", len(held))
		waitForSignal()
	case "get":
		if len(args) < 2 {
			fmt.Fprintln(os.Stderr, "testapp get: a URL is needed")
			os.Exit(2)
		}
		res, err := http.Get(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Print(string(body))
		if res.StatusCode != http.StatusOK {
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "testapp: unknown command %q\n", args[0])
		os.Exit(2)
	}
}

func serve() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	host, _ := os.Hostname()
	only := map[string]bool{}
	for _, p := range strings.Split(os.Getenv("PATHS"), ",") {
		if p != "" {
			only[p] = true
		}
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if len(only) > 0 && !only[r.URL.Path] {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "ok %s\n", host)
	})
	go func() {
		waitForSignal()
		os.Exit(0)
	}()
	fmt.Printf("testapp listening on :%s\n", port)
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func waitForSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
}
