package resp

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// fakeRedis answers each RESP command it reads with the next canned reply.
func fakeRedis(t *testing.T, replies ...string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for _, rep := range replies {
			head, _ := r.ReadString('\n')
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "*")))
			if err != nil {
				return
			}
			for i := 0; i < 2*n; i++ { // each argument is a $len line and a data line
				_, _ = r.ReadString('\n')
			}
			_, _ = c.Write([]byte(rep + "\r\n"))
		}
	}()
	return ln.Addr().String()
}

func TestPing(t *testing.T) {
	if err := Ping(context.Background(), fakeRedis(t, "+PONG"), ""); err != nil {
		t.Fatal(err)
	}
}

func TestWrongPassword(t *testing.T) {
	err := Ping(context.Background(), fakeRedis(t, "-WRONGPASS invalid username-password pair or user is disabled."), "nope")
	if err == nil || !strings.Contains(err.Error(), "WRONGPASS invalid username-password pair") {
		t.Fatalf("got %v", err)
	}
}
