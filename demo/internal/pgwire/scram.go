package pgwire

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// pbkdf2SHA256 is PBKDF2 (RFC 8018) with HMAC-SHA-256, written out because the demo builds with the
// standard library of Go 1.22 only (crypto/pbkdf2 arrived in 1.24).
func pbkdf2SHA256(password, salt []byte, iter, keyLen int) []byte {
	prf := hmac.New(sha256.New, password)
	var out []byte
	for block := uint32(1); len(out) < keyLen; block++ {
		prf.Reset()
		prf.Write(salt)
		var be [4]byte
		binary.BigEndian.PutUint32(be[:], block)
		prf.Write(be[:])
		u := prf.Sum(nil)
		t := append([]byte(nil), u...)
		for i := 1; i < iter; i++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// scram is the client side of SCRAM-SHA-256 (RFC 5802/7677) without channel binding, as PostgreSQL uses it.
type scram struct {
	user, password, nonce string
	clientFirstBare       string
	authMessage           string
	saltedPassword        []byte
}

func newScram(user, password, nonce string) *scram {
	s := &scram{user: user, password: password, nonce: nonce}
	s.clientFirstBare = "n=" + user + ",r=" + nonce
	return s
}

// clientFirst is the client-first-message ("n,," is the GS2 header: no channel binding, no authzid).
func (s *scram) clientFirst() string { return "n,," + s.clientFirstBare }

// clientFinal answers the server-first-message with the proof.
func (s *scram) clientFinal(serverFirst string) (string, error) {
	attrs := parseAttrs(serverFirst)
	r, salt64, iters := attrs["r"], attrs["s"], attrs["i"]
	if !strings.HasPrefix(r, s.nonce) || len(r) == len(s.nonce) {
		return "", errors.New("SCRAM: server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil {
		return "", fmt.Errorf("SCRAM: bad salt: %w", err)
	}
	n, err := strconv.Atoi(iters)
	if err != nil || n < 1 {
		return "", fmt.Errorf("SCRAM: bad iteration count %q", iters)
	}
	s.saltedPassword = pbkdf2SHA256([]byte(s.password), salt, n, sha256.Size)
	clientKey := hmacSHA256(s.saltedPassword, "Client Key")
	stored := sha256.Sum256(clientKey)
	withoutProof := "c=biws,r=" + r // biws = base64("n,,")
	s.authMessage = s.clientFirstBare + "," + serverFirst + "," + withoutProof
	sig := hmacSHA256(stored[:], s.authMessage)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

// verifyServerFinal checks the server's signature, so a server that does not know the password is caught too.
func (s *scram) verifyServerFinal(serverFinal string) error {
	attrs := parseAttrs(serverFinal)
	if e := attrs["e"]; e != "" {
		return fmt.Errorf("SCRAM: server error %s", e)
	}
	want := hmacSHA256(hmacSHA256(s.saltedPassword, "Server Key"), s.authMessage)
	got, err := base64.StdEncoding.DecodeString(attrs["v"])
	if err != nil || subtle.ConstantTimeCompare(got, want) != 1 {
		return errors.New("SCRAM: invalid server signature")
	}
	return nil
}

func parseAttrs(msg string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(msg, ",") {
		if len(part) >= 2 && part[1] == '=' {
			m[part[:1]] = part[2:]
		}
	}
	return m
}
