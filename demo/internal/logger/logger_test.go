package logger

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestProductionEncoderShape(t *testing.T) {
	var buf bytes.Buffer
	l := New("gateway", &buf)
	l.now = func() time.Time { return time.Unix(1732350000, 123000000) }
	l.Named("server").Info("Starting server", String("addr", ":8080"), Int("n", 3), Duration("timeout", 1500*time.Millisecond))
	line := buf.String()
	// zap computes ts as float64(UnixNano)/1e9 too, so the last digits are float noise in both.
	re := regexp.MustCompile(`^\{"level":"info","ts":1732350000\.123\d*,"logger":"gateway\.server","caller":"logger/logger_test\.go:\d+","msg":"Starting server","addr":":8080","n":3,"timeout":1\.5\}\n$`)
	if !re.MatchString(line) {
		t.Fatalf("line does not match zap's production shape:\n%s", line)
	}
}

func TestErrorHasErrorFieldAndStacktrace(t *testing.T) {
	var buf bytes.Buffer
	l := New("datastorage", &buf)
	l.Error("Failed to connect", Err(errors.New(`FATAL: password authentication failed for user "slm_user" (SQLSTATE 28P01)`)))
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if m["level"] != "error" || !strings.Contains(m["error"].(string), `user "slm_user"`) {
		t.Fatalf("unexpected line %s", buf.String())
	}
	if st, _ := m["stacktrace"].(string); !strings.Contains(st, "TestErrorHasErrorFieldAndStacktrace") {
		t.Fatalf("stacktrace misses the caller: %q", st)
	}
	keys := regexp.MustCompile(`"(level|ts|logger|caller|msg|error|stacktrace)":`).FindAllStringSubmatch(buf.String(), -1)
	order := []string{}
	for _, k := range keys {
		order = append(order, k[1])
	}
	if strings.Join(order, ",") != "level,ts,logger,caller,msg,error,stacktrace" {
		t.Fatalf("key order %v", order)
	}
}

func TestFatalExits(t *testing.T) {
	var buf bytes.Buffer
	code := -1
	l := New("gateway", &buf)
	l.exit = func(c int) { code = c }
	l.Fatal("Failed to load configuration", Err(errors.New("open /etc/gateway/config.json: no such file or directory")))
	if code != 1 || !strings.HasPrefix(buf.String(), `{"level":"fatal"`) {
		t.Fatalf("code %d, line %s", code, buf.String())
	}
}

func TestEscaping(t *testing.T) {
	var buf bytes.Buffer
	New("x", &buf).Info("a \"quoted\"\nline\t<b>&", Any("m", map[string]int{"k": 1}))
	if !strings.Contains(buf.String(), `"msg":"a \"quoted\"\nline\t<b>&","m":{"k":1}`) {
		t.Fatalf("bad escaping: %s", buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
}
