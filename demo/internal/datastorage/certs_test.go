package datastorage

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a self-signed pair with the given key to dir/tls.crt and dir/tls.key.
func writePair(t *testing.T, dir string, key any, pub any) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}

func TestSigningCertificate(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadSigningCertificate(dir); err == nil || !strings.Contains(err.Error(), "signing certificate not found at "+dir+"/tls.crt") {
		t.Fatalf("missing pair: %v", err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writePair(t, dir, ec, &ec.PublicKey)
	if _, err := LoadSigningCertificate(dir); err == nil || !strings.Contains(err.Error(), "requires an RSA key") {
		t.Fatalf("EC pair: %v", err)
	}
	r, _ := rsa.GenerateKey(rand.Reader, 2048)
	writePair(t, dir, r, &r.PublicKey)
	if _, err := LoadSigningCertificate(dir); err != nil {
		t.Fatalf("RSA pair: %v", err)
	}
}

func TestServingTLS(t *testing.T) {
	dir := t.TempDir()
	if c, err := ServingTLS(dir); c != nil || err != nil {
		t.Fatalf("no pair is plain HTTP, got %v %v", c, err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writePair(t, dir, ec, &ec.PublicKey)
	if c, err := ServingTLS(dir); c == nil || err != nil || len(c.Certificates) != 1 {
		t.Fatalf("a pair serves TLS, got %v %v", c, err)
	}
}
