package datastorage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, name, text string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNoConfigPath(t *testing.T) {
	if _, err := LoadConfig(env(nil)); !errors.Is(err, ErrNoConfigPath) || err.Error() != "CONFIG_PATH environment variable required (ADR-030)" {
		t.Fatalf("got %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := LoadConfig(env(map[string]string{"CONFIG_PATH": "/nonexistent/config.json"}))
	if err == nil || !strings.Contains(err.Error(), "failed to load config: open /nonexistent/config.json: no such file or directory") {
		t.Fatalf("got %v", err)
	}
}

func TestSecretsFileAndDefaults(t *testing.T) {
	secrets := write(t, "db-secrets.yaml", "username: slm_user\npassword: \"test_password\"\n")
	cfg := write(t, "config.json", `{"database":{"host":"postgresql","name":"action_history","user":"x","secretsFile":"`+secrets+`"},"redis":{"addr":"redis:6379"}}`)
	c, err := LoadConfig(env(map[string]string{"CONFIG_PATH": cfg}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.User != "slm_user" || c.Database.Password != "test_password" || c.Database.Port != 5432 || c.Server.HealthPort != 8081 {
		t.Fatalf("unexpected %+v", c)
	}
}

func TestMissingPasswordIsNamed(t *testing.T) {
	cfg := write(t, "config.json", `{"database":{"host":"postgresql","name":"action_history","user":"slm_user"},"redis":{"addr":"redis:6379"}}`)
	_, err := LoadConfig(env(map[string]string{"CONFIG_PATH": cfg}))
	if err == nil || !strings.Contains(err.Error(), "missing database.password") {
		t.Fatalf("got %v", err)
	}
}

func TestGooseUp(t *testing.T) {
	got := GooseUp("-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a();\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE a;\n")
	if strings.Contains(got, "DROP") || !strings.Contains(got, "CREATE TABLE a();") || strings.Contains(got, "StatementBegin") {
		t.Fatalf("got %q", got)
	}
	if GooseUp("SELECT 1") != "SELECT 1" {
		t.Fatal("a file without markers is applied whole")
	}
}
