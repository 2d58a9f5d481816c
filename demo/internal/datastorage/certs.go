package datastorage

import (
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LoadSigningCertificate reads the AU-9 signing pair as Kubernaut's DataStorage does: missing or invalid is fatal.
func LoadSigningCertificate(dir string) (*tls.Certificate, error) {
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("signing certificate not found at %s: cert-manager Certificate must be provisioned (AU-9)", certFile)
	}
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("signing key not found at %s: cert-manager Certificate must be provisioned (AU-9)", keyFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing certificate at %s is invalid or corrupt: %w", certFile, err)
	}
	if _, ok := pair.PrivateKey.(*rsa.PrivateKey); !ok {
		return nil, fmt.Errorf("signing certificate at %s: the signer requires an RSA key", certFile)
	}
	return &pair, nil
}

// ServingTLS is the API's TLS config when dir holds a serving pair, nil (plain HTTP) when it holds none.
func ServingTLS(dir string) (*tls.Config, error) {
	if dir == "" {
		return nil, nil
	}
	certFile := filepath.Join(dir, "tls.crt")
	if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(certFile, filepath.Join(dir, "tls.key"))
	if err != nil {
		return nil, fmt.Errorf("failed to load TLS certificate from %s: %w", dir, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
