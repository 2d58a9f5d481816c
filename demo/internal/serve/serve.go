// Package serve runs a service's HTTP listeners until SIGTERM/SIGINT, then shuts them down gracefully so
// in-flight requests finish and a -cover binary returns from main and flushes its GOCOVERDIR counters.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"kdoctor.dev/demo/internal/logger"
)

// Listener is one HTTP server to run.
type Listener struct {
	Name, Addr string
	Handler    http.Handler
	// TLS, when set, serves HTTPS with its certificates.
	TLS *tls.Config
}

// Run binds every listener first (a port conflict fails start-up, not later), serves, and returns
// after a signal (nil) or a server failure (the error).
func Run(ctx context.Context, log *logger.Logger, ls ...Listener) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	servers := make([]*http.Server, 0, len(ls))
	errs := make(chan error, len(ls))
	for _, l := range ls {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			for _, s := range servers {
				_ = s.Close()
			}
			return err
		}
		s := &http.Server{Handler: l.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
		servers = append(servers, s)
		if l.TLS != nil {
			ln = tls.NewListener(ln, l.TLS)
		}
		log.Info("Starting "+l.Name+" server", logger.String("addr", l.Addr), logger.Bool("tls", l.TLS != nil))
		go func(name string) {
			if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- errors.New(name + " server: " + err.Error())
			}
		}(l.Name)
	}
	var failure error
	select {
	case <-ctx.Done():
		log.Info("Received shutdown signal, shutting down gracefully")
	case failure = <-errs:
		log.Error("Server failed", logger.Err(failure))
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	return failure
}
