package pgwire

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64.
func TestPBKDF2Vector(t *testing.T) {
	want, _ := hex.DecodeString("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
	if got := pbkdf2SHA256([]byte("passwd"), []byte("salt"), 1, 64); !bytes.Equal(got, want) {
		t.Fatalf("pbkdf2 = %x", got)
	}
}

// RFC 7677 §3: the SCRAM-SHA-256 exchange for user "user", password "pencil".
func TestScramRFC7677(t *testing.T) {
	s := newScram("user", "pencil", "rOprNGfwEbeRWgbNEkqO")
	if got := s.clientFirst(); got != "n,,n=user,r=rOprNGfwEbeRWgbNEkqO" {
		t.Fatalf("client-first %q", got)
	}
	final, err := s.clientFinal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
	if err != nil {
		t.Fatal(err)
	}
	if want := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="; final != want {
		t.Fatalf("client-final\n got %s\nwant %s", final, want)
	}
	if err := s.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="); err != nil {
		t.Fatal(err)
	}
	if err := s.verifyServerFinal("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="); err == nil {
		t.Fatal("a wrong server signature was accepted")
	}
}

func TestScramRejectsForeignNonce(t *testing.T) {
	if _, err := newScram("", "pw", "abc").clientFinal("r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"); err == nil {
		t.Fatal("accepted a server nonce that does not extend ours")
	}
}

func TestErrorResponseReadsLikePgx(t *testing.T) {
	msg := []byte("SFATAL\x00VFATAL\x00C28P01\x00Mpassword authentication failed for user \"slm_user\"\x00Fauth.c\x00L326\x00\x00")
	e := parseError(msg)
	if got := e.Error(); got != `FATAL: password authentication failed for user "slm_user" (SQLSTATE 28P01)` {
		t.Fatalf("got %q", got)
	}
	if !IsAuth(e) {
		t.Fatal("28P01 is an authentication error")
	}
}

func TestLiteral(t *testing.T) {
	if got := Literal("it's"); got != "'it''s'" {
		t.Fatalf("got %s", got)
	}
}
