// Command datastorage is the demo's DataStorage: `datastorage migrate` applies the embedded schema,
// `datastorage [serve]` serves the audit API on :8080, health on :8081 and metrics on :9090.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"kdoctor.dev/demo/internal/datastorage"
	"kdoctor.dev/demo/internal/logger"
	"kdoctor.dev/demo/internal/serve"
	"kdoctor.dev/demo/migrations"
)

func main() {
	log := logger.New("datastorage", os.Stderr)
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	if cmd != "serve" && cmd != "migrate" {
		log.Fatal("Unknown command", logger.String("command", cmd), logger.Err(fmt.Errorf("usage: datastorage [serve|migrate]")))
	}
	cfg, err := datastorage.LoadConfig(os.Getenv)
	if errors.Is(err, datastorage.ErrNoConfigPath) {
		log.Fatal(err.Error(), logger.Err(errors.New("CONFIG_PATH not set")), logger.String("env_var", "CONFIG_PATH"))
	}
	if err != nil {
		log.Fatal("Failed to load configuration", logger.Err(err))
	}
	log.SetDebug(cfg.Logging.Level == "debug")
	ctx := context.Background()
	store, err := datastorage.Open(ctx, log, datastorage.PGConfig(cfg, "datastorage-"+cmd), 60*time.Second)
	if err != nil {
		log.Fatal("Failed to connect to PostgreSQL", logger.Err(err))
	}
	defer store.Close()

	if cmd == "migrate" {
		applied, err := datastorage.Migrate(ctx, log, store, migrations.FS)
		if err != nil {
			store.Close()
			log.Fatal("goose migration failed", logger.Err(err))
		}
		log.Info("Migrations complete", logger.Int("applied", len(applied)))
		return
	}

	if err := datastorage.CheckSchema(ctx, store); err != nil {
		store.Close()
		log.Fatal("Database schema check failed", logger.Err(err))
	}
	if dir := cfg.Server.SignerCertDir; dir != "" {
		if _, err := datastorage.LoadSigningCertificate(dir); err != nil {
			store.Close()
			log.Fatal("Failed to create server", logger.Err(fmt.Errorf("failed to load signing certificate: %w", err)))
		}
		log.Info("Loaded signing certificate", logger.String("cert_dir", dir))
	}
	apiTLS, err := datastorage.ServingTLS(cfg.Server.TLS.CertDir)
	if err != nil {
		store.Close()
		log.Fatal("Failed to create server", logger.Err(err))
	}
	if apiTLS == nil && cfg.Server.TLS.CertDir != "" {
		log.Warn("No TLS certificate: the API serves plain HTTP", logger.String("cert_dir", cfg.Server.TLS.CertDir))
	}
	srv := datastorage.NewServer(log, store, cfg)
	if err := srv.Redis(ctx); err != nil {
		// Not fatal: /readyz stays 503 until Redis answers, which is what the readiness probe is for.
		log.Warn("Redis not reachable at start-up", logger.String("addr", cfg.Redis.Addr), logger.Err(err))
	}
	host := cfg.Server.Host
	err = serve.Run(ctx, log,
		serve.Listener{Name: "API", Addr: host + ":" + strconv.Itoa(cfg.Server.Port), Handler: srv.API(), TLS: apiTLS},
		serve.Listener{Name: "health", Addr: host + ":" + strconv.Itoa(cfg.Server.HealthPort), Handler: srv.Health()},
		serve.Listener{Name: "metrics", Addr: host + ":" + strconv.Itoa(cfg.Server.MetricsPort), Handler: srv.Metrics},
	)
	if err != nil {
		store.Close()
		log.Fatal("DataStorage stopped", logger.Err(err))
	}
	log.Info("DataStorage stopped")
}
