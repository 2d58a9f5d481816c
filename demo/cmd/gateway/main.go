// Command gateway is the demo's Gateway: Prometheus alerts in on :8080, health on :8081, metrics on :9090.
package main

import (
	"context"
	"flag"
	"os"

	"kdoctor.dev/demo/internal/gateway"
	"kdoctor.dev/demo/internal/logger"
	"kdoctor.dev/demo/internal/serve"
)

func main() {
	log := logger.New("gateway", os.Stderr)
	configPath := flag.String("config", "/etc/gateway/config.json", "path to the Gateway's JSON configuration")
	flag.Parse()
	cfg, err := gateway.LoadConfig(*configPath)
	if err != nil {
		log.Fatal("Failed to load configuration", logger.String("config_path", *configPath), logger.Err(err))
	}
	ns, err := gateway.Namespace(os.Getenv)
	if err != nil {
		log.Fatal(err.Error(), logger.String("env_var", gateway.NamespaceEnv), logger.Err(err))
	}
	log.Info("Starting Gateway", logger.String("namespace", ns), logger.String("datastorage_url", cfg.DataStorage.URL))
	transport, err := gateway.Transport(os.Getenv)
	if err != nil {
		log.Fatal("Failed to create server", logger.Err(err))
	}
	srv := gateway.NewServer(log, cfg, ns)
	if transport != nil {
		srv.Client.Transport = transport
	}
	err = serve.Run(context.Background(), log,
		serve.Listener{Name: "API", Addr: cfg.Server.ListenAddr, Handler: srv.API()},
		serve.Listener{Name: "health", Addr: cfg.Server.HealthAddr, Handler: srv.Health()},
		serve.Listener{Name: "metrics", Addr: cfg.Server.MetricsAddr, Handler: srv.Metrics},
	)
	if err != nil {
		log.Fatal("Gateway stopped", logger.Err(err))
	}
	log.Info("Gateway stopped")
}
