// Package gateway is the demo's Gateway: it takes Prometheus alerts and records each as an audit event in
// DataStorage, and its readiness fails closed while DataStorage does not answer (as Kubernaut's #1985 gate).
package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// NamespaceEnv is the variable the Gateway refuses to start without.
const NamespaceEnv = "KUBERNAUT_CONTROLLER_NAMESPACE"

// ErrNoNamespace is returned when NamespaceEnv is unset.
var ErrNoNamespace = errors.New(NamespaceEnv + " environment variable is required")

// Config is the JSON file given with --config.
type Config struct {
	Server struct {
		ListenAddr  string `json:"listenAddr"`
		HealthAddr  string `json:"healthAddr"`
		MetricsAddr string `json:"metricsAddr"`
	} `json:"server"`
	DataStorage struct {
		URL       string `json:"url"`
		HealthURL string `json:"healthUrl"`
		Timeout   string `json:"timeout"`
	} `json:"datastorage"`
	timeout time.Duration
}

// Timeout is datastorage.timeout (10 s when unset).
func (c *Config) Timeout() time.Duration { return c.timeout }

// LoadConfig reads and validates the file; every error here is reported as "Failed to load configuration".
func LoadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	c.Server.ListenAddr, c.Server.HealthAddr, c.Server.MetricsAddr = ":8080", ":8081", ":9090"
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("invalid configuration %s: %w", path, err)
	}
	var bad []string
	for _, kv := range [][2]string{{"datastorage.url", c.DataStorage.URL}, {"datastorage.healthUrl", c.DataStorage.HealthURL}} {
		if !strings.HasPrefix(kv[1], "http://") && !strings.HasPrefix(kv[1], "https://") {
			bad = append(bad, kv[0]+" must be an http(s) URL, got "+fmt.Sprintf("%q", kv[1]))
		}
	}
	c.timeout = 10 * time.Second
	if t := c.DataStorage.Timeout; t != "" {
		if c.timeout, err = time.ParseDuration(t); err != nil {
			bad = append(bad, "datastorage.timeout: "+err.Error())
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("invalid configuration %s: %s", path, strings.Join(bad, "; "))
	}
	return c, nil
}

// Namespace returns the controller namespace from the environment, or ErrNoNamespace.
func Namespace(getenv func(string) string) (string, error) {
	ns := getenv(NamespaceEnv)
	if ns == "" {
		return "", ErrNoNamespace
	}
	return ns, nil
}

// CAFileEnv names the inter-service CA bundle the DataStorage client trusts (Kubernaut's TLS_CA_FILE).
const CAFileEnv = "TLS_CA_FILE"

// Transport trusts the CA in TLS_CA_FILE when it is set (nil: the default transport). As Kubernaut's Gateway, a CA
// that cannot be read stops start-up rather than leaving the client to fail every call.
func Transport(getenv func(string) string) (*http.Transport, error) {
	path := getenv(CAFileEnv)
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("FATAL: failed to create TLS-aware base transport for Data Storage client: failed to read CA certificate %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("FATAL: failed to create TLS-aware base transport for Data Storage client: no valid PEM certificates in %s", path)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}
