// Package datastorage is the demo's DataStorage service: audit events in PostgreSQL, Redis as a dependency.
package datastorage

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNoConfigPath is Kubernaut's start-up error when the config file location is not given.
var ErrNoConfigPath = errors.New("CONFIG_PATH environment variable required (ADR-030)")

// Config is the JSON file CONFIG_PATH names.
type Config struct {
	Server struct {
		Host        string `json:"host"`
		Port        int    `json:"port"`
		HealthPort  int    `json:"healthPort"`
		MetricsPort int    `json:"metricsPort"`
		// SignerCertDir holds the AU-9 signing pair (tls.crt, tls.key); when set, DataStorage does not start without it.
		SignerCertDir string `json:"signerCertDir"`
		TLS           struct {
			// CertDir holds the serving pair; when it has none the API is plain HTTP, as Kubernaut's optional mount.
			CertDir string `json:"certDir"`
		} `json:"tls"`
	} `json:"server"`
	Database struct {
		Host        string `json:"host"`
		Port        int    `json:"port"`
		Name        string `json:"name"`
		User        string `json:"user"`
		Password    string `json:"password"`
		SSLMode     string `json:"sslMode"`
		SecretsFile string `json:"secretsFile"`
	} `json:"database"`
	Redis struct {
		Addr        string `json:"addr"`
		Password    string `json:"password"`
		SecretsFile string `json:"secretsFile"`
	} `json:"redis"`
	Logging struct {
		Level string `json:"level"`
	} `json:"logging"`
}

// LoadConfig reads CONFIG_PATH, then the secrets files it names, then env overrides (POSTGRES_PASSWORD, REDIS_PASSWORD).
func LoadConfig(getenv func(string) string) (*Config, error) {
	path := getenv("CONFIG_PATH")
	if path == "" {
		return nil, ErrNoConfigPath
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to load config: %w", err)
	}
	c := &Config{}
	c.Server.Host, c.Server.Port, c.Server.HealthPort, c.Server.MetricsPort = "0.0.0.0", 8080, 8081, 9090
	c.Database.Port, c.Database.SSLMode = 5432, "disable"
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("failed to parse config %s: %w", path, err)
	}
	if f := c.Database.SecretsFile; f != "" {
		s, err := readSecrets(f)
		if err != nil {
			return nil, fmt.Errorf("failed to load database secrets: %w", err)
		}
		if s["username"] != "" {
			c.Database.User = s["username"]
		}
		if s["password"] != "" {
			c.Database.Password = s["password"]
		}
	}
	if f := c.Redis.SecretsFile; f != "" {
		s, err := readSecrets(f)
		if err != nil {
			return nil, fmt.Errorf("failed to load redis secrets: %w", err)
		}
		c.Redis.Password = s["password"]
	}
	if v := getenv("POSTGRES_PASSWORD"); v != "" {
		c.Database.Password = v
	}
	if v := getenv("REDIS_PASSWORD"); v != "" {
		c.Redis.Password = v
	}
	var missing []string
	for _, kv := range [][2]string{{"database.host", c.Database.Host}, {"database.name", c.Database.Name}, {"database.user", c.Database.User}, {"database.password", c.Database.Password}, {"redis.addr", c.Redis.Addr}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("invalid configuration %s: missing %s", path, strings.Join(missing, ", "))
	}
	if c.Database.SSLMode != "disable" {
		return nil, fmt.Errorf("invalid configuration %s: database.sslMode %q is not supported by the demo (use disable)", path, c.Database.SSLMode)
	}
	return c, nil
}

// readSecrets reads Kubernaut's flat `key: value` secrets file (db-secrets.yaml); quotes around values are dropped.
func readSecrets(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s: not a `key: value` line: %q", path, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, sc.Err()
}
